// Which contract's work goes first when several compete: critical before standard before bulk;
// within a tier the tightest RPO first; then by name, so the order is the same on every daemon.
import { TIERS, type Tier } from './contract.ts';

export interface PriorityItem {
  tier: Tier;
  rpoMs: number;
  name: string;
}

export function comparePriority(a: PriorityItem, b: PriorityItem): number {
  return TIERS.indexOf(a.tier) - TIERS.indexOf(b.tier) || a.rpoMs - b.rpoMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** A sorted copy; the input is not changed. */
export function orderByPriority<T extends PriorityItem>(items: readonly T[]): T[] {
  return [...items].sort(comparePriority);
}
