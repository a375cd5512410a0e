// The study plan's shape (apps/trainer/schema/study-plan.schema.json), as TypeScript types.

/** A `compare` option's value in a plan: a list is joined with commas, `false` is `--no-<name>`. */
export type OptionValue = string | number | boolean | (string | number)[];

/** `compare` options by their camelCase names (`batchSize` is `--batch-size`). */
export type PlanOptions = Record<string, OptionValue>;

/** Where the data comes from: `--data`, `--data-dir`, `--train-limit`, `--test-limit`. */
export interface PlanData {
  name: string;
  dir?: string;
  trainLimit?: number;
  testLimit?: number;
}

/** One group of jobs: one `compare` (or deep ensemble) per model × budget × seed. */
export interface PlanGroup {
  id: string;
  kind?: 'compare' | 'deep-ensemble';
  setting?: string;
  arm?: string;
  models?: string[];
  budgets: number[];
  seeds: { count: number; start?: number; step?: number } | number[];
  methods?: ('baseline' | 'sse' | 'fge' | 'swa')[];
  options?: PlanOptions;
  byBudget?: Record<string, PlanOptions>;
  curve?: false | { epochs?: number; points?: number; seeds?: number };
  of?: string;
  members?: number;
}

/** Which scored model of which runs: rows matching every field given (setting default `primary`). */
export interface Selector {
  model?: string;
  budget?: number;
  setting?: string;
  method: string;
  variant: string;
}

/** The metrics a claim can test; all are lower-is-better. */
export type Metric = 'error' | 'nll' | 'ece' | 'brier' | 'barrier';

/** How a claim's verdict is decided from its paired differences `d = method − comparator`. */
export type VerdictRule =
  | { test: 'superiority'; level?: number; margin: number; everySeed?: boolean }
  | { test: 'equivalence'; level?: number; margin: number }
  | { test: 'sign'; alpha?: number };

/** A pre-registered claim. */
export interface PlanClaim {
  id: string;
  claim: string;
  paper?: string;
  primary?: boolean;
  method: Selector;
  comparator: Selector;
  metric: Metric;
  rule: VerdictRule;
}

/** A secondary comparison: reported with intervals, no verdict. */
export interface PlanComparison {
  label: string;
  comparatorLabel?: string;
  method: Selector;
  comparator: Selector;
}

/** A study plan (`apps/trainer/schema/study-plan.schema.json`). */
export interface StudyPlan {
  $schema?: string;
  onerunStudy: 1;
  name: string;
  description?: string;
  data: PlanData;
  model: string;
  options?: PlanOptions;
  groups: PlanGroup[];
  claims: PlanClaim[];
  comparisons?: PlanComparison[];
  variants?: { method: string; variant: string; label: string }[];
}
