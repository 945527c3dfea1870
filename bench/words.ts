// Word lists for the emergency-record text. Real registries repeat a small vocabulary, which is
// what makes them compress well; the lists are kept short for the same reason.

export interface Region {
  readonly name: string;
  readonly code: string;
  readonly lat: number;
  readonly lon: number;
}

export const REGIONS: readonly Region[] = [
  { name: 'North Coast', code: 'NCO', lat: 54.32, lon: 10.13 },
  { name: 'Upper Valley', code: 'UVA', lat: 47.81, lon: 13.04 },
  { name: 'Lakeside', code: 'LAK', lat: 46.2, lon: 6.14 },
  { name: 'River Delta', code: 'RDE', lat: 51.92, lon: 4.48 },
  { name: 'High Plateau', code: 'HPL', lat: 40.42, lon: -3.7 },
  { name: 'East Hills', code: 'EHI', lat: 50.08, lon: 14.43 },
  { name: 'South Basin', code: 'SBA', lat: 43.3, lon: 5.37 },
  { name: 'West Marsh', code: 'WMA', lat: 53.35, lon: -6.26 },
  { name: 'Capital District', code: 'CAP', lat: 48.86, lon: 2.35 },
  { name: 'Forest Range', code: 'FRA', lat: 48.0, lon: 7.85 },
  { name: 'Harbor Islands', code: 'HIS', lat: 59.33, lon: 18.07 },
  { name: 'Glacier Pass', code: 'GPA', lat: 46.8, lon: 9.84 },
  { name: 'Canal Lowlands', code: 'CLO', lat: 52.37, lon: 4.9 },
  { name: 'Vineyard Slopes', code: 'VSL', lat: 44.84, lon: -0.58 },
  { name: 'Mining Belt', code: 'MBE', lat: 50.26, lon: 19.02 },
  { name: 'Steppe Border', code: 'SBO', lat: 47.5, lon: 19.04 },
];

export const PLACES: readonly string[] = [
  'Riverside', 'Oak Hill', 'St. Mary', 'Central', 'Harbor View', 'Pine Ridge', 'Millbrook',
  'Cedar Park', 'Northgate', 'Eastwood', 'Lakeview', 'Stonebridge', 'Maple Grove', 'Westfield',
  'Fairhaven', 'Kingsway', 'Brookside', 'Highland', 'Greenfield', 'Old Town', 'Station Road',
  'Market Square', 'Elm Street', 'Quarry Lane', 'Ferry Point', 'Church Street',
];

export const FACILITIES: readonly string[] = [
  'Community Center', 'High School', 'Primary School', 'Church Hall', 'Sports Arena', 'Library',
  'Fairgrounds', 'Armory', 'Town Hall', 'Convention Center', 'Gymnasium', 'Fire Station',
  'University Hall', 'Exhibition Hall',
];

export const SENSOR_KINDS: readonly { kind: string; unit: string; lo: number; hi: number }[] = [
  { kind: 'river_gauge', unit: 'm', lo: 0.2, hi: 9.5 },
  { kind: 'rain_gauge', unit: 'mm/h', lo: 0, hi: 80 },
  { kind: 'wind', unit: 'm/s', lo: 0, hi: 45 },
  { kind: 'air_quality_pm25', unit: 'ug/m3', lo: 2, hi: 350 },
  { kind: 'seismic_pga', unit: 'g', lo: 0, hi: 0.8 },
  { kind: 'temperature', unit: 'C', lo: -25, hi: 46 },
  { kind: 'snow_depth', unit: 'cm', lo: 0, hi: 320 },
];

export const SENSOR_STATUS: readonly string[] = ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'degraded', 'offline', 'alarm'];

export const CASE_CATEGORIES: readonly string[] = [
  'evacuation', 'medical', 'shelter_request', 'missing_person', 'utility_outage', 'supply_request',
  'structural_damage', 'animal_rescue', 'welfare_check', 'road_blocked',
];

export const CASE_STATUS: readonly string[] = ['open', 'open', 'assigned', 'in_progress', 'resolved', 'closed'];

export const TEAMS: readonly string[] = [
  'Team Falcon', 'Team Heron', 'Team Lynx', 'Team Otter', 'Team Badger', 'Team Kestrel',
  'Red Cross Unit 4', 'Fire Brigade 12', 'Civil Protection 7', 'Mountain Rescue 2',
];

export const NOTE_WORDS: readonly string[] = (
  'family of four relocated to shelter needs insulin elderly resident wheelchair access required ' +
  'water level rising bridge closed road blocked by debris power restored generator running low on ' +
  'fuel pets on site awaiting transport second floor flooded roof damage reported neighbours ' +
  'assisting ambulance dispatched no injuries reported minor injuries treated on scene volunteers ' +
  'requested blankets and cots delivered translation needed contacted by phone no answer will ' +
  'retry at noon checked in at registration desk medication list attached infant formula required ' +
  'gas leak suspected area cordoned off school bus used for evacuation'
).split(' ');

export const ITEMS: readonly { item: string; unit: string }[] = [
  { item: 'bottled water', unit: 'l' },
  { item: 'field cot', unit: 'pcs' },
  { item: 'blanket', unit: 'pcs' },
  { item: 'ready meal', unit: 'pcs' },
  { item: 'hygiene kit', unit: 'pcs' },
  { item: 'diesel', unit: 'l' },
  { item: 'sandbag', unit: 'pcs' },
  { item: 'first aid kit', unit: 'pcs' },
  { item: 'tarpaulin', unit: 'pcs' },
  { item: 'infant formula', unit: 'kg' },
];
