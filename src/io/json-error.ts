// Finds where a JSON text stops being valid, so parse errors can say "line L, column C" even when the engine's
// message does not give a position (V8 reports e.g. `Unexpected token '}', "{"a": }" is not valid JSON`).
// Kept rather than jsonc-parser (lenient JSONC, whose errors point at the start of a token): this accepts exactly
// what JSON.parse accepts (property-tested) and names the first character that cannot continue a valid text.

/** Offset of the first character at which `text` is not valid JSON (text.length when it ends too early), or -1. */
export function jsonErrorOffset(text: string): number {
  let p = 0;
  const n = text.length;
  const ws = (): void => {
    while (p < n) {
      const c = text.charCodeAt(p);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) p++;
      else break;
    }
  };
  class Stop extends Error {
    constructor(readonly at: number) {
      super(`invalid JSON at offset ${at}`);
    }
  }
  const fail = (): never => {
    throw new Stop(p);
  };
  const literal = (word: string): void => {
    for (let k = 0; k < word.length; k++, p++) if (text[p] !== word[k]) fail();
  };
  const digits = (): void => {
    if (!(p < n && text[p] >= '0' && text[p] <= '9')) fail();
    while (p < n && text[p] >= '0' && text[p] <= '9') p++;
  };
  const number = (): void => {
    if (text[p] === '-') p++;
    if (text[p] === '0') p++;
    else digits();
    if (text[p] === '.') {
      p++;
      digits();
    }
    if (text[p] === 'e' || text[p] === 'E') {
      p++;
      if (text[p] === '+' || text[p] === '-') p++;
      digits();
    }
  };
  const string = (): void => {
    p++; // opening quote
    while (true) {
      if (p >= n) fail();
      const c = text.charCodeAt(p);
      if (c === 0x22) {
        p++;
        return;
      }
      if (c < 0x20) fail();
      if (c === 0x5c) {
        p++;
        const e = text[p];
        if (e === 'u') {
          p++;
          for (let k = 0; k < 4; k++, p++) if (!/[0-9a-fA-F]/.test(text[p] ?? '')) fail();
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) p++;
        else fail();
      } else p++;
    }
  };
  // Iterative over containers so deeply nested input cannot overflow the stack.
  const value = (): void => {
    const stack: string[] = [];
    while (true) {
      ws();
      const c = text[p];
      if (c === '{') {
        p++;
        ws();
        if (text[p] === '}') {
          p++;
        } else {
          if (text[p] !== '"') fail();
          string();
          ws();
          if (text[p] !== ':') fail();
          p++;
          stack.push('}');
          continue;
        }
      } else if (c === '[') {
        p++;
        ws();
        if (text[p] === ']') {
          p++;
        } else {
          stack.push(']');
          continue;
        }
      } else if (c === '"') string();
      else if (c === 't') literal('true');
      else if (c === 'f') literal('false');
      else if (c === 'n') literal('null');
      else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) number();
      else fail();
      // After a value: close containers or move to the next element.
      while (true) {
        if (stack.length === 0) return;
        ws();
        const top = stack[stack.length - 1];
        if (text[p] === ',') {
          p++;
          if (top === '}') {
            ws();
            if (text[p] !== '"') fail();
            string();
            ws();
            if (text[p] !== ':') fail();
            p++;
          }
          break;
        }
        if (text[p] === top) {
          p++;
          stack.pop();
          continue;
        }
        fail();
      }
    }
  };
  try {
    if (text.charCodeAt(0) === 0xfeff) p = 1; // a BOM is tolerated by the reader (stripped before JSON.parse)
    value();
    ws();
    if (p < n) fail();
    return -1;
  } catch (e) {
    if (e instanceof Stop) return Math.min(e.at, n);
    throw e;
  }
}

/** 1-based line and column of `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text.charCodeAt(k) === 0x0a) {
      line++;
      start = k + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

/**
 * Parses JSON; on a syntax error throws a SyntaxError whose message gives the line, column and offset of the
 * first invalid character, followed by the engine's own description.
 */
export function parseJsonText(text: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    let offset = jsonErrorOffset(text);
    if (offset < 0) {
      const m = /position (\d+)/.exec(e.message);
      offset = m ? Number(m[1]) : text.length;
    }
    const { line, column } = lineColumn(text, offset);
    const what = offset >= text.length ? 'unexpected end of input' : `unexpected ${JSON.stringify(text[offset])}`;
    throw new SyntaxError(`invalid JSON at line ${line}, column ${column} (offset ${offset}): ${what}`, { cause: e });
  }
}
