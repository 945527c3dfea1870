// Emergency-record text: shelter registries and supply depots as CSV, sensor readings and case
// files as NDJSON. Realistic enough that compression and chunking behave as on real data.
import type { Rng } from './prng.ts';
import {
  CASE_CATEGORIES, CASE_STATUS, FACILITIES, ITEMS, NOTE_WORDS, PLACES, REGIONS, SENSOR_KINDS,
  SENSOR_STATUS, TEAMS,
} from './words.ts';

export type TextKind = 'shelters' | 'sensors' | 'cases' | 'supplies';
export const TEXT_KINDS: readonly TextKind[] = ['shelters', 'sensors', 'cases', 'supplies'];
export const EXTENSION: Readonly<Record<TextKind, string>> = {
  shelters: 'csv',
  sensors: 'ndjson',
  cases: 'ndjson',
  supplies: 'csv',
};

export interface RecordSource {
  /** Written once at the top of a new file ('' for NDJSON). */
  readonly header: string;
  /** One record, newline included. */
  line(): string;
}

const EPOCH_2026 = Date.UTC(2026, 0, 1);

/** Lines from `source` until at least `bytes` characters (ASCII, so characters are bytes). */
export function fillText(source: RecordSource, bytes: number, withHeader: boolean): string {
  let out = withHeader ? source.header : '';
  while (out.length < bytes) out += source.line();
  return out;
}

export function recordSource(kind: TextKind, rng: Rng): RecordSource {
  switch (kind) {
    case 'shelters':
      return shelters(rng);
    case 'sensors':
      return sensors(rng);
    case 'cases':
      return cases(rng);
    case 'supplies':
      return supplies(rng);
  }
}

// Records in a file move forward in time from a per-file start, as an export or a log would.
function clock(rng: Rng): () => string {
  let t = EPOCH_2026 + rng.int(0, 60 * 86400) * 1000;
  return () => {
    t += rng.int(1, 600) * 1000;
    return new Date(t).toISOString().slice(0, 19) + 'Z';
  };
}

function shelters(rng: Rng): RecordSource {
  const region = rng.pick(REGIONS);
  let id = rng.int(1, 90000);
  const when = clock(rng);
  return {
    header: 'shelter_id,name,region,lat,lon,capacity,occupancy,updated_at\n',
    line() {
      const r = rng.float() < 0.8 ? region : rng.pick(REGIONS);
      const capacity = rng.int(4, 120) * 10;
      const lat = (r.lat + (rng.float() - 0.5) * 1.2).toFixed(5);
      const lon = (r.lon + (rng.float() - 0.5) * 1.8).toFixed(5);
      id++;
      return (
        `SH-${r.code}-${pad(id, 5)},${rng.pick(PLACES)} ${rng.pick(FACILITIES)},${r.name},` +
        `${lat},${lon},${capacity},${rng.int(0, capacity)},${when()}\n`
      );
    },
  };
}

function sensors(rng: Rng): RecordSource {
  const region = rng.pick(REGIONS);
  // A file holds the readings of a fixed handful of stations, cycling, like a gateway's export.
  const stations = Array.from({ length: rng.int(4, 24) }, () => {
    const k = rng.pick(SENSOR_KINDS);
    return { ...k, id: `${k.kind.slice(0, 3).toUpperCase()}-${region.code}-${pad(rng.int(0, 999), 3)}` };
  });
  let n = 0;
  const when = clock(rng);
  return {
    header: '',
    line() {
      const s = stations[n++ % stations.length]!;
      const value = (s.lo + rng.float() * (s.hi - s.lo)).toFixed(2);
      return (
        `{"sensor_id":"${s.id}","kind":"${s.kind}","region":"${region.name}","ts":"${when()}",` +
        `"value":${value},"unit":"${s.unit}","battery":${rng.int(5, 100)},` +
        `"status":"${rng.pick(SENSOR_STATUS)}"}\n`
      );
    },
  };
}

function cases(rng: Rng): RecordSource {
  let id = rng.int(1, 900000);
  const when = clock(rng);
  return {
    header: '',
    line() {
      const words: string[] = [];
      for (let i = rng.int(4, 14); i > 0; i--) words.push(rng.pick(NOTE_WORDS));
      id++;
      return (
        `{"case_id":"C-2026-${pad(id, 6)}","opened_at":"${when()}","region":"${rng.pick(REGIONS).name}",` +
        `"category":"${rng.pick(CASE_CATEGORIES)}","priority":${rng.int(1, 4)},` +
        `"status":"${rng.pick(CASE_STATUS)}","team":"${rng.pick(TEAMS)}",` +
        `"households":${rng.int(1, 12)},"notes":"${words.join(' ')}"}\n`
      );
    },
  };
}

function supplies(rng: Rng): RecordSource {
  const region = rng.pick(REGIONS);
  const when = clock(rng);
  return {
    header: 'depot_id,item,region,quantity,unit,expires,updated_at\n',
    line() {
      const it = rng.pick(ITEMS);
      const expires = new Date(EPOCH_2026 + rng.int(30, 1500) * 86400000).toISOString().slice(0, 10);
      return (
        `DEP-${region.code}-${pad(rng.int(1, 40), 3)},${it.item},${region.name},` +
        `${rng.int(0, 5000)},${it.unit},${expires},${when()}\n`
      );
    },
  };
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
