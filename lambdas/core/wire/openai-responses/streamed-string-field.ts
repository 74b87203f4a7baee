/**
 * Reads one top-level string property out of a JSON object that arrives in fragments (a tool call's input as the
 * model streams it), and hands out its decoded text as soon as it is known. A free-form tool is offered to the model
 * as a tool with one string property; its `custom_tool_call_input.delta` events are this property's text, not the
 * JSON around it.
 *
 *   const field = new StreamedStringField('input');
 *   field.push('{"inp') → ''   field.push('ut": "*** Begin\\nPa') → '*** Begin\nPa'   field.push('tch"}') → 'tch'
 *
 * Escapes split across fragments (`\` | `n`, `\u00` | `e9`) and surrogate pairs split across escapes are held back
 * until complete, so every piece handed out is whole text. Other properties (any nesting) are skipped. Pure: no I/O.
 */
export class StreamedStringField {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Where the string being read sits: a key at depth 1, the wanted value, or anything else. */
  private stringRole: 'key' | 'value' | 'other' = 'other';
  /** Depth-1 state: expecting a key, a colon, or a value (then a comma). */
  private expect: 'key' | 'colon' | 'value' | 'comma' = 'key';
  private key = '';
  private lastKey = '';
  private unicode: string | null = null;
  private highSurrogate: string | null = null;
  private text = '';
  private state: 'searching' | 'reading' | 'done' = 'searching';

  constructor(private readonly field: string) {}

  /** Whether the property was found and its string value has started. */
  get found(): boolean {
    return this.state !== 'searching';
  }

  /** The decoded text so far (all of it once the closing quote has arrived). */
  get value(): string {
    return this.text;
  }

  /** Feeds the next fragment; returns the newly decoded text of the property (possibly ''). */
  push(fragment: string): string {
    let out = '';
    for (const ch of fragment) {
      if (this.state === 'done') break;
      if (this.inString) {
        out += this.inStringChar(ch);
        continue;
      }
      this.structural(ch);
    }
    this.text += out;
    return out;
  }

  private structural(ch: string): void {
    if (ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t') return;
    if (ch === '"') {
      this.inString = true;
      if (this.depth === 1 && this.expect === 'key') {
        this.stringRole = 'key';
        this.key = '';
      } else if (this.depth === 1 && this.expect === 'value' && this.lastKey === this.field && this.state === 'searching') {
        this.stringRole = 'value';
        this.state = 'reading';
      } else {
        this.stringRole = 'other';
      }
      return;
    }
    if (ch === '{' || ch === '[') {
      if (this.depth === 1 && this.expect === 'value') this.expect = 'comma';
      this.depth++;
      if (this.depth === 1) this.expect = 'key';
      return;
    }
    if (ch === '}' || ch === ']') {
      this.depth--;
      return;
    }
    if (this.depth !== 1) return;
    if (ch === ':' && this.expect === 'colon') this.expect = 'value';
    else if (ch === ',') this.expect = 'key';
    else if (this.expect === 'value') this.expect = 'comma'; // a number, true, false or null
  }

  /** One character inside a string; returns decoded text when the string is the wanted value. */
  private inStringChar(ch: string): string {
    const reading = this.stringRole === 'value';
    if (this.unicode !== null) {
      this.unicode += ch;
      if (this.unicode.length < 4) return '';
      const code = Number.parseInt(this.unicode, 16);
      this.unicode = null;
      return this.emit(Number.isNaN(code) ? '' : String.fromCharCode(code));
    }
    if (this.escaped) {
      this.escaped = false;
      if (ch === 'u') {
        this.unicode = '';
        return '';
      }
      return this.emit(ESCAPES[ch] ?? ch);
    }
    if (ch === '\\') {
      this.escaped = true;
      return '';
    }
    if (ch === '"') {
      this.inString = false;
      if (this.stringRole === 'key') {
        this.lastKey = this.key;
        this.expect = 'colon';
      } else if (this.depth === 1) {
        this.expect = 'comma';
      }
      if (reading) {
        this.state = 'done';
        const pending = this.highSurrogate ?? '';
        this.highSurrogate = null;
        return pending;
      }
      return '';
    }
    return this.emit(ch);
  }

  /** Routes decoded text: into the key being read, out as the value's text, or nowhere. */
  private emit(text: string): string {
    if (this.stringRole === 'key') {
      this.key += text;
      return '';
    }
    if (this.stringRole !== 'value') return '';
    // A high surrogate waits for its low half (which may arrive as the next \u escape, in a later fragment).
    if (this.highSurrogate !== null) {
      const pair = this.highSurrogate + text;
      this.highSurrogate = null;
      return pair;
    }
    const code = text.charCodeAt(0);
    if (text.length === 1 && code >= 0xd800 && code <= 0xdbff) {
      this.highSurrogate = text;
      return '';
    }
    return text;
  }
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
