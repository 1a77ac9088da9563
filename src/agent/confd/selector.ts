// Calico's label selector language (the subset BGPPeer and IPPool selectors use):
//   all()  has(k)  !has(k)  k == "v"  k != "v"  k in {"a","b"}  k not in {...}  !e  e && e  e || e  (e)
// Parsed once into a predicate over a label map. Pure.

export type Labels = Readonly<Record<string, string>>;
export type Selector = (labels: Labels) => boolean;

export class SelectorError extends Error {
  constructor(
    readonly selector: string,
    readonly position: number,
    what: string,
  ) {
    super(`invalid selector ${JSON.stringify(selector)} at ${position}: ${what}`);
    this.name = "SelectorError";
  }
}

type Token =
  | { t: "ident"; v: string; p: number }
  | { t: "str"; v: string; p: number }
  | { t: "op"; v: string; p: number }
  | { t: "end"; p: number };

const IDENT = /[A-Za-z0-9_./-]/;

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (["==", "!=", "&&", "||"].includes(two)) {
      out.push({ t: "op", v: two, p: i });
      i += 2;
      continue;
    }
    if ("!(){},".includes(c)) {
      out.push({ t: "op", v: c, p: i });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new SelectorError(src, i, "unterminated string");
      out.push({ t: "str", v: src.slice(i + 1, end), p: i });
      i = end + 1;
      continue;
    }
    if (IDENT.test(c)) {
      let j = i;
      while (j < src.length && IDENT.test(src[j]!)) j++;
      out.push({ t: "ident", v: src.slice(i, j), p: i });
      i = j;
      continue;
    }
    throw new SelectorError(src, i, `unexpected character ${JSON.stringify(c)}`);
  }
  out.push({ t: "end", p: src.length });
  return out;
}

export function parseSelector(src: string): Selector {
  const toks = tokenize(src);
  let k = 0;
  const peek = () => toks[k]!;
  const isOp = (v: string) => {
    const t = peek();
    return t.t === "op" && t.v === v;
  };
  const expectOp = (v: string) => {
    if (!isOp(v)) throw new SelectorError(src, peek().p, `expected "${v}"`);
    k++;
  };
  const ident = (): string => {
    const t = peek();
    if (t.t !== "ident") throw new SelectorError(src, t.p, "expected a label key");
    k++;
    return t.v;
  };
  const str = (): string => {
    const t = peek();
    if (t.t !== "str") throw new SelectorError(src, t.p, "expected a quoted value");
    k++;
    return t.v;
  };
  const set = (): Set<string> => {
    expectOp("{");
    const vals = new Set<string>();
    if (!isOp("}")) {
      vals.add(str());
      while (isOp(",")) {
        k++;
        vals.add(str());
      }
    }
    expectOp("}");
    return vals;
  };

  const primary = (): Selector => {
    if (isOp("!")) {
      k++;
      const inner = primary();
      return (l) => !inner(l);
    }
    if (isOp("(")) {
      k++;
      const e = or();
      expectOp(")");
      return e;
    }
    const name = ident();
    if ((name === "all" || name === "has") && isOp("(")) {
      k++;
      if (name === "all") {
        expectOp(")");
        return () => true;
      }
      const key = ident();
      expectOp(")");
      return (l) => Object.hasOwn(l, key);
    }
    if (isOp("==")) {
      k++;
      const v = str();
      return (l) => l[name] === v;
    }
    if (isOp("!=")) {
      k++;
      const v = str();
      return (l) => l[name] !== v;
    }
    const t = peek();
    if (t.t === "ident" && t.v === "in") {
      k++;
      const vals = set();
      return (l) => l[name] !== undefined && vals.has(l[name]!);
    }
    if (t.t === "ident" && t.v === "not") {
      k++;
      const t2 = peek();
      if (t2.t !== "ident" || t2.v !== "in") throw new SelectorError(src, t2.p, 'expected "in" after "not"');
      k++;
      const vals = set();
      return (l) => l[name] === undefined || !vals.has(l[name]!);
    }
    throw new SelectorError(src, t.p, `expected an operator after "${name}"`);
  };
  const and = (): Selector => {
    let left = primary();
    while (isOp("&&")) {
      k++;
      const a = left;
      const b = primary();
      left = (l) => a(l) && b(l);
    }
    return left;
  };
  const or = (): Selector => {
    let left = and();
    while (isOp("||")) {
      k++;
      const a = left;
      const b = and();
      left = (l) => a(l) || b(l);
    }
    return left;
  };

  if (src.trim() === "") return () => true;
  const e = or();
  if (peek().t !== "end") throw new SelectorError(src, peek().p, "unexpected text after the expression");
  return e;
}
