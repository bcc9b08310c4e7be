/**
 * Service Bus SQL filter expressions (the grammar Azure documents for SqlFilter): AND / OR / NOT, comparisons
 * (= <> != > >= < <=), arithmetic (+ - * / %), [NOT] IN (...), [NOT] LIKE 'pattern' [ESCAPE 'c'], IS [NOT] NULL,
 * EXISTS(property), string / number / TRUE / FALSE / NULL literals, `sys.` system and `user.` (or bare / [bracketed])
 * application properties. Evaluation follows SQL three-valued logic: a missing property is unknown and a message
 * matches only when the whole expression is TRUE.
 */
import type { FilterableMessage, PropertyValue } from './filters';

export type SystemField = 'messageId' | 'correlationId' | 'subject' | 'to' | 'replyTo' | 'replyToSessionId' | 'sessionId' | 'contentType';

export const SYSTEM_FIELDS: Record<string, SystemField> = {
  messageid: 'messageId',
  correlationid: 'correlationId',
  label: 'subject',
  subject: 'subject',
  to: 'to',
  replyto: 'replyTo',
  replytosessionid: 'replyToSessionId',
  sessionid: 'sessionId',
  contenttype: 'contentType',
};

export type PropertyRef = { system: SystemField } | { user: string };

export type SqlNode =
  | { t: 'lit'; v: PropertyValue }
  | { t: 'prop'; ref: PropertyRef }
  | { t: 'not'; e: SqlNode }
  | { t: 'and' | 'or'; l: SqlNode; r: SqlNode }
  | { t: 'cmp'; op: '=' | '<>' | '>' | '>=' | '<' | '<='; l: SqlNode; r: SqlNode }
  | { t: 'arith'; op: '+' | '-' | '*' | '/' | '%'; l: SqlNode; r: SqlNode }
  | { t: 'neg'; e: SqlNode }
  | { t: 'in'; e: SqlNode; list: SqlNode[]; not: boolean }
  | { t: 'like'; e: SqlNode; pattern: RegExp; not: boolean }
  | { t: 'isnull'; e: SqlNode; not: boolean }
  | { t: 'exists'; ref: PropertyRef };

export class SqlSyntaxError extends Error {}

type Token = { k: 'str'; v: string } | { k: 'num'; v: number } | { k: 'id'; v: string; bracketed: boolean } | { k: 'op'; v: string };

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'LIKE', 'ESCAPE', 'IS', 'NULL', 'TRUE', 'FALSE', 'EXISTS']);

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new SqlSyntaxError(`unterminated string literal in '${text}'`);
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            s += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += text[i++];
      }
      out.push({ k: 'str', v: s });
    } else if (c === '[') {
      const end = text.indexOf(']', i);
      if (end < 0) throw new SqlSyntaxError(`unterminated [identifier] in '${text}'`);
      out.push({ k: 'id', v: text.slice(i + 1, end), bracketed: true });
      i = end + 1;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i))!;
      out.push({ k: 'num', v: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_$@]/.test(c)) {
      const m = /^[A-Za-z_$@][\w$@]*(?:\.(?:[A-Za-z_$@][\w$@]*|\[[^\]]*\]))*/.exec(text.slice(i))!;
      out.push({ k: 'id', v: m[0], bracketed: false });
      i += m[0].length;
    } else {
      const two = text.slice(i, i + 2);
      if (['<>', '!=', '>=', '<='].includes(two)) {
        out.push({ k: 'op', v: two === '!=' ? '<>' : two });
        i += 2;
      } else if ('=<>+-*/%(),'.includes(c)) {
        out.push({ k: 'op', v: c });
        i++;
      } else {
        throw new SqlSyntaxError(`unexpected character '${c}' in '${text}'`);
      }
    }
  }
  return out;
}

function propertyRef(name: string, bracketed: boolean): PropertyRef {
  if (bracketed) return { user: name };
  const lower = name.toLowerCase();
  const strip = (s: string) => (s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s);
  if (lower.startsWith('sys.')) {
    const system = SYSTEM_FIELDS[strip(name.slice(4)).toLowerCase()];
    if (!system) throw new SqlSyntaxError(`unsupported system property '${name}' in SQL filter`);
    return { system };
  }
  return { user: strip(lower.startsWith('user.') ? name.slice(5) : name) };
}

function likeToRegExp(pattern: string, escape: string | undefined): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (escape !== undefined && c === escape && i + 1 < pattern.length) re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

class Parser {
  private i = 0;
  constructor(
    private readonly toks: Token[],
    private readonly text: string,
  ) {}

  parse(): SqlNode {
    const e = this.or();
    if (this.i < this.toks.length) throw this.error('unexpected input');
    return e;
  }

  private error(what: string): SqlSyntaxError {
    const t = this.toks[this.i];
    return new SqlSyntaxError(`${what} at ${t ? `'${String(t.v)}'` : 'end'} in SQL expression '${this.text}'`);
  }

  private kw(word: string): boolean {
    const t = this.toks[this.i];
    if (t?.k === 'id' && !t.bracketed && t.v.toUpperCase() === word) {
      this.i++;
      return true;
    }
    return false;
  }

  private op(v: string): boolean {
    const t = this.toks[this.i];
    if (t?.k === 'op' && t.v === v) {
      this.i++;
      return true;
    }
    return false;
  }

  private expectOp(v: string): void {
    if (!this.op(v)) throw this.error(`expected '${v}'`);
  }

  private or(): SqlNode {
    let l = this.and();
    while (this.kw('OR')) l = { t: 'or', l, r: this.and() };
    return l;
  }

  private and(): SqlNode {
    let l = this.not();
    while (this.kw('AND')) l = { t: 'and', l, r: this.not() };
    return l;
  }

  private not(): SqlNode {
    if (this.kw('NOT')) return { t: 'not', e: this.not() };
    return this.predicate();
  }

  private predicate(): SqlNode {
    if (this.kw('EXISTS')) {
      this.expectOp('(');
      const t = this.toks[this.i++];
      if (t?.k !== 'id') throw this.error('EXISTS needs a property name');
      this.expectOp(')');
      return { t: 'exists', ref: propertyRef(t.v, t.bracketed) };
    }
    const l = this.additive();
    for (const op of ['=', '<>', '>=', '<=', '>', '<'] as const) if (this.op(op)) return { t: 'cmp', op, l, r: this.additive() };
    const save = this.i;
    const not = this.kw('NOT');
    if (this.kw('IN')) {
      this.expectOp('(');
      const list = [this.additive()];
      while (this.op(',')) list.push(this.additive());
      this.expectOp(')');
      return { t: 'in', e: l, list, not };
    }
    if (this.kw('LIKE')) {
      const p = this.toks[this.i++];
      if (p?.k !== 'str') throw this.error('LIKE needs a string pattern');
      let escape: string | undefined;
      if (this.kw('ESCAPE')) {
        const e = this.toks[this.i++];
        if (e?.k !== 'str' || e.v.length !== 1) throw this.error('ESCAPE needs a one-character string');
        escape = e.v;
      }
      return { t: 'like', e: l, pattern: likeToRegExp(p.v, escape), not };
    }
    this.i = save;
    if (this.kw('IS')) {
      const isNot = this.kw('NOT');
      if (!this.kw('NULL')) throw this.error('expected NULL after IS');
      return { t: 'isnull', e: l, not: isNot };
    }
    return l;
  }

  private additive(): SqlNode {
    let l = this.multiplicative();
    for (;;) {
      if (this.op('+')) l = { t: 'arith', op: '+', l, r: this.multiplicative() };
      else if (this.op('-')) l = { t: 'arith', op: '-', l, r: this.multiplicative() };
      else return l;
    }
  }

  private multiplicative(): SqlNode {
    let l = this.unary();
    for (;;) {
      if (this.op('*')) l = { t: 'arith', op: '*', l, r: this.unary() };
      else if (this.op('/')) l = { t: 'arith', op: '/', l, r: this.unary() };
      else if (this.op('%')) l = { t: 'arith', op: '%', l, r: this.unary() };
      else return l;
    }
  }

  private unary(): SqlNode {
    if (this.op('-')) return { t: 'neg', e: this.unary() };
    if (this.op('+')) return this.unary();
    return this.primary();
  }

  private primary(): SqlNode {
    if (this.op('(')) {
      const e = this.or();
      this.expectOp(')');
      return e;
    }
    const t = this.toks[this.i++];
    if (!t) throw this.error('unexpected end');
    if (t.k === 'str' || t.k === 'num') return { t: 'lit', v: t.v };
    if (t.k === 'id') {
      const upper = t.v.toUpperCase();
      if (!t.bracketed && upper === 'TRUE') return { t: 'lit', v: true };
      if (!t.bracketed && upper === 'FALSE') return { t: 'lit', v: false };
      if (!t.bracketed && upper === 'NULL') return { t: 'lit', v: null };
      if (!t.bracketed && KEYWORDS.has(upper)) {
        this.i--;
        throw this.error(`unexpected keyword ${upper}`);
      }
      return { t: 'prop', ref: propertyRef(t.v, t.bracketed) };
    }
    this.i--;
    throw this.error('unexpected token');
  }
}

/** Parses a SQL filter expression; throws SqlSyntaxError naming the position. */
export function parseSql(text: string): SqlNode {
  return new Parser(tokenize(text), text).parse();
}

/** The values a message offers an expression. `undefined` = the property does not exist. */
export interface SqlScope {
  get(ref: PropertyRef): PropertyValue | undefined;
}

/** Three-valued result: true, false or null (unknown). */
type Tri = boolean | null;
type Value = PropertyValue | undefined;

function compare(op: string, a: Value, b: Value): Tri {
  if (a === undefined || a === null || b === undefined || b === null) return null;
  if (typeof a !== typeof b) return op === '<>' ? true : op === '=' ? false : null;
  switch (op) {
    case '=':
      return a === b;
    case '<>':
      return a !== b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    default:
      return a <= b;
  }
}

function value(n: SqlNode, s: SqlScope): Value {
  switch (n.t) {
    case 'lit':
      return n.v;
    case 'prop':
      return s.get(n.ref);
    case 'neg': {
      const v = value(n.e, s);
      return typeof v === 'number' ? -v : null;
    }
    case 'arith': {
      const l = value(n.l, s);
      const r = value(n.r, s);
      if (n.op === '+' && typeof l === 'string' && typeof r === 'string') return l + r;
      if (typeof l !== 'number' || typeof r !== 'number') return null;
      if ((n.op === '/' || n.op === '%') && r === 0) return null;
      return n.op === '+' ? l + r : n.op === '-' ? l - r : n.op === '*' ? l * r : n.op === '/' ? l / r : l % r;
    }
    default:
      return truth(n, s);
  }
}

function truth(n: SqlNode, s: SqlScope): Tri {
  switch (n.t) {
    case 'and': {
      const l = truth(n.l, s);
      if (l === false) return false;
      const r = truth(n.r, s);
      if (r === false) return false;
      return l === null || r === null ? null : true;
    }
    case 'or': {
      const l = truth(n.l, s);
      if (l === true) return true;
      const r = truth(n.r, s);
      if (r === true) return true;
      return l === null || r === null ? null : false;
    }
    case 'not': {
      const v = truth(n.e, s);
      return v === null ? null : !v;
    }
    case 'cmp':
      return compare(n.op, value(n.l, s), value(n.r, s));
    case 'in': {
      const v = value(n.e, s);
      if (v === undefined || v === null) return null;
      const hit = n.list.some((x) => compare('=', v, value(x, s)) === true);
      return n.not ? !hit : hit;
    }
    case 'like': {
      const v = value(n.e, s);
      if (typeof v !== 'string') return null;
      const hit = n.pattern.test(v);
      return n.not ? !hit : hit;
    }
    case 'isnull': {
      const v = value(n.e, s);
      const isNull = v === undefined || v === null;
      return n.not ? !isNull : isNull;
    }
    case 'exists':
      return s.get(n.ref) !== undefined;
    default: {
      const v = value(n, s);
      return typeof v === 'boolean' ? v : null;
    }
  }
}

/** True only when the expression is TRUE for the message (unknown and false do not match). */
export function evaluateSql(n: SqlNode, s: SqlScope): boolean {
  return truth(n, s) === true;
}

/** The value of an expression (rule actions' SET); undefined when it reads a missing property. */
export function evaluateSqlValue(n: SqlNode, m: FilterableMessage): PropertyValue | undefined {
  return value(n, { get: (ref) => ('system' in ref ? m[ref.system] : userPropertyOf(m, ref.user)) });
}

function userPropertyOf(m: FilterableMessage, name: string): PropertyValue | undefined {
  if (name in m.applicationProperties) return m.applicationProperties[name];
  const key = Object.keys(m.applicationProperties).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : m.applicationProperties[key];
}
