import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resultsV2PlanPath } from './init.js';
import { loadPlan, StudyPlanError, validatePlan } from './plan.js';

const plan = () => ({
  onerunStudy: 1,
  name: 'tiny',
  data: { name: 'synthetic', trainLimit: 64 },
  model: 'mlp',
  groups: [{ id: 'core', budgets: [2], seeds: { count: 2 }, methods: ['baseline', 'swa'] }],
  claims: [
    {
      id: '1',
      claim: 'SWA beats SGD',
      method: { method: 'swa', variant: 'bn' },
      comparator: { method: 'baseline', variant: 'final' },
      metric: 'error',
      rule: { test: 'superiority', margin: 0.2 },
    },
  ],
});

/** The problems `validatePlan` reports for `value`. */
function problems(value: unknown) {
  try {
    validatePlan(value, 'p.json');
  } catch (error) {
    expect(error).toBeInstanceOf(StudyPlanError);
    return (error as StudyPlanError).problems;
  }
  throw new Error('the plan was accepted');
}

describe('study plan validation', () => {
  it('accepts a valid plan and the plans shipped with the app and docs', () => {
    expect(validatePlan(plan()).name).toBe('tiny');
    expect(loadPlan(resultsV2PlanPath()).groups).toHaveLength(14);
    const swa = loadPlan(join(__dirname, '../../../../docs/studies/swa-lr-0.05/plan.json'));
    expect(swa.claims.map((c) => c.id)).toEqual(['1', '2', '3', '4']);
  });

  it('names the path of each problem', () => {
    const p = plan() as Record<string, unknown>;
    delete p.data;
    expect(problems(p)).toContainEqual({
      path: '/',
      message: "must have required property 'data'",
    });

    const q = plan();
    (q.groups[0] as Record<string, unknown>).seeds = { count: 0 };
    (q.groups[0] as Record<string, unknown>).methods = ['baseline', 'swag'];
    const found = problems(q);
    expect(found.map((f) => f.path)).toEqual(
      expect.arrayContaining(['/groups/0/seeds/count', '/groups/0/methods/1']),
    );
    expect(found.find((f) => f.path === '/groups/0/methods/1')?.message).toBe(
      'must be one of "baseline", "sse", "fge", "swa"',
    );
  });

  it('refuses unknown fields, options the study sets itself, and rules without their margin', () => {
    const p = plan();
    (p.groups[0] as Record<string, unknown>).method = 'swa';
    (p.groups[0] as Record<string, unknown>).options = { seed: 3 };
    (p.claims[0] as Record<string, unknown>).rule = { test: 'equivalence' };
    const found = problems(p);
    expect(found).toContainEqual({ path: '/groups/0', message: "unknown field 'method'" });
    expect(found.find((f) => f.path === '/groups/0/options')?.message).toMatch(/sets itself/);
    expect(found.some((f) => f.path === '/claims/0/rule')).toBe(true);
  });

  it('checks what the schema cannot: deep ensembles of a real group, unique claims and jobs', () => {
    const p = plan();
    p.groups.push({
      id: 'deep',
      kind: 'deep-ensemble',
      of: 'nope',
      members: 2,
      budgets: [2],
      seeds: { count: 1 },
    } as never);
    p.claims.push({ ...p.claims[0]! });
    const found = problems(p);
    expect(found).toContainEqual(expect.objectContaining({ path: '/groups/1/of' }));
    expect(found).toContainEqual({ path: '/claims/1/id', message: "'1' is used twice" });

    const q = plan();
    q.groups.push({ ...q.groups[0]! });
    expect(problems(q)).toContainEqual(
      expect.objectContaining({
        path: '/groups/0',
        message: expect.stringMatching(/job mlp-b2-s0-core also comes from group/),
      }),
    );
  });

  it('says when the file is not JSON, in the error message too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plan-'));
    const file = join(dir, 'plan.json');
    writeFileSync(file, '{ "onerunStudy": 1,');
    expect(() => loadPlan(file)).toThrow(/plan\.json: \/: is not JSON/);
  });
});
