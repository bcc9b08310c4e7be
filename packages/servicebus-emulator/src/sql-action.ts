/**
 * SQL rule actions (Azure's grammar for `SqlRuleAction`): `SET <property> = <expression>` and `REMOVE <property>`,
 * several separated by `;`, applied to the copy of a message a subscription receives. Expressions use the SQL filter
 * grammar (sql.ts) and see the message's properties as the filter did. Only user properties can be set or removed.
 */
import type { FilterableMessage, PropertyValue } from './filters';
import { evaluateSqlValue, parseSql, SYSTEM_FIELDS, type SqlNode } from './sql';

export type ActionStep = { kind: 'set'; name: string; expr: SqlNode } | { kind: 'remove'; name: string };

export interface CompiledAction {
  actionExpression: string;
  action: ActionStep[];
}

/** What an action does to one message: properties set (with their values) and properties removed. */
export interface ActionEffect {
  set: Record<string, PropertyValue>;
  removed: string[];
}

/** Splits on `;` outside quoted strings and brackets. */
function statements(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = false;
  let bracket = false;
  for (const c of text) {
    if (c === "'" && !bracket) quote = !quote;
    else if (c === '[' && !quote) bracket = true;
    else if (c === ']' && !quote) bracket = false;
    if (c === ';' && !quote && !bracket) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter((s) => s !== '');
}

/** The user property a statement targets; sys.* targets are refused (the emulator keeps system properties as sent). */
function target(name: string, text: string): string {
  const lower = name.toLowerCase();
  if (lower.startsWith('sys.')) {
    const field = name.slice(4).replace(/^\[|\]$/g, '');
    const known = SYSTEM_FIELDS[field.toLowerCase()] !== undefined;
    throw new Error(
      `invalid rule action '${text}': ${known ? 'setting or removing system properties' : `'${name}'`} is not supported by this emulator (user properties only)`,
    );
  }
  const bare = lower.startsWith('user.') ? name.slice(5) : name;
  return bare.startsWith('[') && bare.endsWith(']') ? bare.slice(1, -1) : bare;
}

const SET = /^SET\s+(\[[^\]]+\]|[A-Za-z_][\w.]*|user\.\[[^\]]+\]|sys\.\[[^\]]+\])\s*=\s*([\s\S]+)$/i;
const REMOVE = /^REMOVE\s+(\[[^\]]+\]|[A-Za-z_][\w.]*|user\.\[[^\]]+\]|sys\.\[[^\]]+\])$/i;

export function compileRuleAction(text: string): CompiledAction {
  const steps = statements(text).map((st): ActionStep => {
    const set = SET.exec(st);
    if (set) {
      try {
        return { kind: 'set', name: target(set[1]!, text), expr: parseSql(set[2]!) };
      } catch (e) {
        throw new Error(`invalid rule action '${text}': ${(e as Error).message.replace(/^invalid rule action '[^']*': /, '')}`);
      }
    }
    const remove = REMOVE.exec(st);
    if (remove) return { kind: 'remove', name: target(remove[1]!, text) };
    throw new Error(`invalid rule action '${text}': expected SET <property> = <expression> or REMOVE <property>, got '${st}'`);
  });
  if (steps.length === 0) throw new Error(`invalid rule action '${text}': no statements`);
  return { actionExpression: text, action: steps };
}

/** Runs the steps in order; later steps see earlier SETs. Missing values evaluate to null, as in Azure. */
export function applyRuleAction(steps: ActionStep[], message: FilterableMessage, effect: ActionEffect): void {
  for (const step of steps) {
    const view = { ...message, applicationProperties: { ...message.applicationProperties, ...effect.set } };
    for (const r of effect.removed) delete view.applicationProperties[r];
    if (step.kind === 'set') {
      effect.set[step.name] = evaluateSqlValue(step.expr, view) ?? null;
      effect.removed = effect.removed.filter((r) => r !== step.name);
    } else {
      delete effect.set[step.name];
      if (!effect.removed.includes(step.name)) effect.removed.push(step.name);
    }
  }
}
