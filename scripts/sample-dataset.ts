// Writes a small sample emergency-management dataset for the demo: shelter and hospital
// registries (CSV), sensor readings (NDJSON), and a folder of incident notes. Deterministic, so
// a second run changes nothing and the demo's second snapshot shows deduplication.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = process.argv[2];
if (!root) throw new Error('usage: sample-dataset.ts <folder>');

let seed = 20261126;
const next = (): number => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32;
};
const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)]!;
const regions = ['Sichuan', 'Yunnan', 'Gansu', 'Shaanxi', 'Chongqing'];

mkdirSync(path.join(root, 'registries'), { recursive: true });
mkdirSync(path.join(root, 'sensors'), { recursive: true });
mkdirSync(path.join(root, 'incidents/2026-11'), { recursive: true });

const shelters = ['shelter_id,name,region,lat,lon,capacity,occupancy'];
for (let i = 1; i <= 2000; i++) {
  const cap = 50 + Math.floor(next() * 950);
  shelters.push(`S${i},Shelter ${i},${pick(regions)},${(28 + next() * 6).toFixed(4)},${(100 + next() * 8).toFixed(4)},${cap},${Math.floor(next() * cap)}`);
}
writeFileSync(path.join(root, 'registries/shelters.csv'), `${shelters.join('\n')}\n`);

const hospitals = ['hospital_id,name,region,beds,icu_beds,status'];
for (let i = 1; i <= 400; i++) {
  hospitals.push(`H${i},Hospital ${i},${pick(regions)},${100 + Math.floor(next() * 900)},${Math.floor(next() * 60)},${pick(['open', 'open', 'limited', 'closed'])}`);
}
writeFileSync(path.join(root, 'registries/hospitals.csv'), `${hospitals.join('\n')}\n`);

for (let s = 1; s <= 5; s++) {
  const lines: string[] = [];
  for (let r = 0; r < 3000; r++) {
    lines.push(JSON.stringify({ sensor: `river-${s}`, t: 1790000000 + r * 60, level_m: +(2 + next() * 3).toFixed(3) }));
  }
  writeFileSync(path.join(root, `sensors/river-${s}.ndjson`), `${lines.join('\n')}\n`);
}
for (let n = 1; n <= 30; n++) {
  writeFileSync(path.join(root, `incidents/2026-11/incident-${n}.txt`), `Incident ${n} in ${pick(regions)}: ${pick(['flood', 'landslide', 'earthquake'])}, status ${pick(['open', 'closed'])}.\n`);
}
