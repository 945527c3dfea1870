// How much one prune run may delete, over all its sites. A run that reaches the budget stops
// deleting; what is left stays marked and is deleted by a later run.
export interface BudgetLimits {
  /** Bytes of packs deleted per run; undefined: no limit. */
  maxBytes?: number;
  /** Packs deleted per run; undefined: no limit. */
  maxPacks?: number;
}

export class DeleteBudget {
  private bytes = 0;
  private packs = 0;
  /** Set once a delete was refused for the budget. */
  exhausted = false;
  private readonly limits: BudgetLimits;

  constructor(limits: BudgetLimits) {
    this.limits = limits;
  }

  /** Takes a pack of `size` bytes from the budget; false (and exhausted) when it does not fit. */
  take(size: number): boolean {
    const { maxBytes, maxPacks } = this.limits;
    if ((maxPacks !== undefined && this.packs + 1 > maxPacks) || (maxBytes !== undefined && this.bytes + size > maxBytes)) {
      this.exhausted = true;
      return false;
    }
    this.packs++;
    this.bytes += size;
    return true;
  }

  /** A taken pack that was not deleted after all (locked, already gone). */
  giveBack(size: number): void {
    this.packs--;
    this.bytes -= size;
  }

  get used(): { packs: number; bytes: number } {
    return { packs: this.packs, bytes: this.bytes };
  }
}
