/**
 * HPACK (RFC 7541): header block decoder and encoder, each with its dynamic table.
 *
 * Both tables are rings indexed by an insertion counter: the entry inserted `k`-th lives at slot
 * `k & mask`, the live entries are `evicted .. inserted - 1`, and HPACK index `62` is the newest
 * (`inserted - 1`). Strings are byte strings (one char per octet, latin1), so `s.length` is the
 * octet count RFC 7541 section 4.1 sizes entries with.
 */

import { STATIC_BY_NAME, STATIC_LENGTH, STATIC_NAMES, STATIC_VALUES } from './_hpack-static';
import {
  HUFFMAN_NOT_BYTES,
  huffmanDecode,
  huffmanEncode,
  huffmanLength,
  huffmanValidate,
  latin1,
} from './_huffman';
import { Http2Error, Http2ErrorCode } from './errors';

/** Per-entry overhead added to name and value lengths (RFC 7541 section 4.1). */
const ENTRY_OVERHEAD = 32;
/** SETTINGS_HEADER_TABLE_SIZE before any SETTINGS (RFC 9113 section 6.5.2). */
const DEFAULT_TABLE_SIZE = 4096;
/** Default bound of a decoded header list (name + value + 32 per field). */
const DEFAULT_MAX_HEADER_LIST_SIZE = 16384;
/** The largest integer a decoder accepts (2^31-1): more is an error, not a wrap. */
const MAX_INT = 0x7fffffff;
/** Continuation octets an integer may take: 5 carry 35 bits, enough for 2^31-1 over any prefix. */
const MAX_INT_OCTETS = 5;
/** Octets for one integer at most (prefix octet + 5 continuation octets). */
const MAX_INT_BYTES = 1 + MAX_INT_OCTETS;

function compressionError(message: string): Http2Error {
  return new Http2Error(Http2ErrorCode.H2_COMPRESSION, `HPACK: ${message}`);
}

function notBytes(): Http2Error {
  return new Http2Error(Http2ErrorCode.H2_INVALID_HEADER, 'HPACK: a header string has a char above 0xFF');
}

// ---- integers (RFC 7541 section 5.1) ---------------------------------------------------------

/** Where the last {@link readInt} / {@link readString} stopped (no allocation per call). */
let cursor = 0;

/**
 * Read an integer with an `prefixBits`-bit prefix starting at `src[pos]` (the prefix octet), up to
 * `end`. Sets `cursor` to the octet after it. Throws on truncation, on a value above 2^31-1 and
 * on more than 5 continuation octets.
 */
function readInt(src: Uint8Array, pos: number, end: number, prefixBits: number): number {
  const max = (1 << prefixBits) - 1;
  let value = src[pos]! & max;
  pos++;
  if (value === max) {
    let scale = 1;
    for (let n = 1; ; n++) {
      if (pos >= end) throw compressionError('integer runs past the block');
      const c = src[pos++]!;
      value += (c & 0x7f) * scale;
      if (value > MAX_INT) throw compressionError('integer above 2^31-1');
      if ((c & 0x80) === 0) break;
      if (n === MAX_INT_OCTETS) throw compressionError('integer longer than 5 continuation octets');
      scale *= 128;
    }
  }
  cursor = pos;
  return value;
}

/**
 * Write `value` with a `prefixBits`-bit prefix at `out[pos]`, OR-ing `first` (the representation's
 * pattern bits) into the prefix octet. Returns the position after it. The caller has the room.
 */
function writeInt(out: Uint8Array, pos: number, first: number, prefixBits: number, value: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out[pos++] = first | value;
    return pos;
  }
  out[pos++] = first | max;
  value -= max;
  while (value >= 0x80) {
    out[pos++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[pos++] = value;
  return pos;
}

/**
 * Decode an HPACK integer (RFC 7541 section 5.1) whose prefix octet is `src[pos]`, with a prefix of
 * `prefixBits` (1..8) bits. For tests and tools; the decoder inlines the same steps.
 */
export function decodeInteger(
  src: Uint8Array,
  pos: number,
  prefixBits: number,
): { value: number; next: number } {
  const value = readInt(src, pos, src.length, prefixBits);
  return { value, next: cursor };
}

/**
 * Encode `value` as an HPACK integer with a `prefixBits`-bit prefix, `first` giving the bits above
 * the prefix. For tests and tools.
 */
export function encodeInteger(value: number, prefixBits: number, first = 0): Uint8Array {
  const out = new Uint8Array(MAX_INT_BYTES + 2);
  return out.slice(0, writeInt(out, 0, first, prefixBits, value));
}

// ---- strings (RFC 7541 section 5.2) ----------------------------------------------------------

/** Read a string literal at `src[pos]` (H bit + 7-bit length); sets `cursor` past it. */
function readString(src: Uint8Array, pos: number, end: number): string {
  if (pos >= end) throw compressionError('header block ends inside a field');
  const huffman = src[pos]! & 0x80;
  const len = readInt(src, pos, end, 7);
  const start = cursor;
  const stop = start + len;
  if (stop > end) throw compressionError('string runs past the block');
  cursor = stop;
  return huffman !== 0 ? huffmanDecode(src, start, stop) : latin1(src, start, stop);
}

/** Step over a string literal, checking its bounds and Huffman code; sets `cursor` past it. */
function skipString(src: Uint8Array, pos: number, end: number): void {
  if (pos >= end) throw compressionError('header block ends inside a field');
  const huffman = src[pos]! & 0x80;
  const len = readInt(src, pos, end, 7);
  const start = cursor;
  const stop = start + len;
  if (stop > end) throw compressionError('string runs past the block');
  if (huffman !== 0) huffmanValidate(src, start, stop);
  cursor = stop;
}

// ---- decoder ---------------------------------------------------------------------------------

/** Options of {@link HpackDecoder}. */
export interface HpackDecoderOptions {
  /**
   * Our SETTINGS_HEADER_TABLE_SIZE: the most the peer's table-size updates may ask (default 4096).
   * The table itself starts at the protocol's 4096 whatever this is, as the peer's encoder does
   * until it has our SETTINGS. Below 4096, call `setMaxTableSize` with it again once our SETTINGS
   * are acknowledged: from then on the peer's next block must open with a size update.
   */
  maxTableSize?: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE: sum over fields of name.length + value.length + 32 (default 16384). */
  maxHeaderListSize?: number;
}

/**
 * Decodes header blocks (RFC 7541 section 3.1), keeping the peer's dynamic table in step. One per
 * connection and direction; blocks must be fed whole and in order.
 *
 * @example
 * const dec = new HpackDecoder();
 * dec.decode(Uint8Array.of(0x82, 0x84)); // [':method', 'GET', ':path', '/']
 */
export class HpackDecoder {
  private names: string[] = new Array<string>(16).fill('');
  private values: string[] = new Array<string>(16).fill('');
  private mask = 15;
  private inserted = 0;
  private evicted = 0;
  private size = 0;
  /** The table's maximum size now: the last size update, else 4096 (RFC 9113 section 6.5.2). */
  private capacity: number;
  /** The most a size update may ask (our SETTINGS_HEADER_TABLE_SIZE). */
  private limit: number;
  /** Our limit went below the table's size: the next block must open with a size update. */
  private mustUpdate = false;
  private readonly maxListSize: number;
  /** Pair indices of the last block's never-indexed fields. */
  private readonly never: number[] = [];

  constructor(options?: HpackDecoderOptions) {
    this.limit = options?.maxTableSize ?? DEFAULT_TABLE_SIZE;
    this.capacity = DEFAULT_TABLE_SIZE;
    this.maxListSize = options?.maxHeaderListSize ?? DEFAULT_MAX_HEADER_LIST_SIZE;
  }

  /** Current dynamic table size in octets (RFC 7541 section 4.1). */
  get tableSize(): number {
    return this.size;
  }

  /** Current number of dynamic table entries. */
  get tableLength(): number {
    return this.inserted - this.evicted;
  }

  /** The table's current maximum size: the last size update the peer sent, else 4096. */
  get maxTableSize(): number {
    return this.capacity;
  }

  /** The dynamic table as a flat `[name, value, ...]` list, newest (index 62) first: for tests and the inspector. */
  tableEntries(): string[] {
    const out: string[] = [];
    for (let id = this.inserted - 1; id >= this.evicted; id--) {
      out.push(this.names[id & this.mask]!, this.values[id & this.mask]!);
    }
    return out;
  }

  /**
   * Change the table size we allow (after our SETTINGS with a new HEADER_TABLE_SIZE is
   * acknowledged). Below the current maximum, the next block must start with a size update
   * (RFC 7541 section 4.2), or decoding it fails.
   */
  setMaxTableSize(n: number): void {
    this.limit = n;
    if (n < this.capacity) this.mustUpdate = true;
  }

  /** Whether field `i` (pair index: 0 is the first name and value) of the last block was sent never-indexed. */
  neverIndexed(i: number): boolean {
    return this.never.includes(i);
  }

  /**
   * Decode one complete header block into a flat `[name, value, name, value, ...]` list of byte
   * strings, or `null` when the list exceeds `maxHeaderListSize` (the block is still decoded to its
   * end, so the table stays in step, but no fields are kept). Throws `Http2Error`
   * (`H2_COMPRESSION`) on any decoding error; the decoder is then unusable (a connection error).
   */
  decode(block: Uint8Array): string[] | null {
    const end = block.length;
    const never = this.never;
    if (never.length !== 0) never.length = 0; // (setting a length is a runtime call: skip it when 0)
    let fields: string[] | null = [];
    let listSize = 0;
    let fieldSeen = false;
    let pos = 0;
    while (pos < end) {
      const b = block[pos]!;
      // 001xxxxx: dynamic table size update (section 6.3), only before the first field (4.2).
      if ((b & 0xe0) === 0x20) {
        if (fieldSeen) throw compressionError('table size update after a field');
        const n = readInt(block, pos, end, 5);
        pos = cursor;
        if (n > this.limit) throw compressionError('table size update above SETTINGS_HEADER_TABLE_SIZE');
        this.capacity = n;
        this.mustUpdate = false;
        this.evictTo(n);
        continue;
      }
      if (!fieldSeen) {
        if (this.mustUpdate) throw compressionError('missing table size update after a SETTINGS change');
        fieldSeen = true;
      }
      let name: string;
      let value: string;
      if (b >= 0x80) {
        // 1xxxxxxx: indexed field (section 6.1).
        let index = b & 0x7f;
        if (index === 0x7f) {
          index = readInt(block, pos, end, 7);
          pos = cursor;
        } else {
          pos++;
        }
        if (index === 0) throw compressionError('index 0');
        if (index <= STATIC_LENGTH) {
          name = STATIC_NAMES[index]!;
          value = STATIC_VALUES[index]!;
        } else {
          const slot = this.slotOf(index);
          name = this.names[slot]!;
          value = this.values[slot]!;
        }
      } else if (b >= 0x40) {
        // 01xxxxxx: literal with incremental indexing (section 6.2.1).
        const index = readInt(block, pos, end, 6);
        pos = cursor;
        if (index === 0) {
          name = readString(block, pos, end);
          pos = cursor;
        } else {
          name = this.nameAt(index);
        }
        value = readString(block, pos, end);
        pos = cursor;
        this.insert(name, value);
      } else {
        // 0000xxxx: literal without indexing (6.2.2); 0001xxxx: never indexed (6.2.3).
        const index = readInt(block, pos, end, 4);
        pos = cursor;
        if (fields === null) {
          // Past the list limit: check the field, keep nothing (no table change to follow).
          if (index === 0) {
            skipString(block, pos, end);
            pos = cursor;
          } else {
            this.nameAt(index);
          }
          skipString(block, pos, end);
          pos = cursor;
          continue;
        }
        if (index === 0) {
          name = readString(block, pos, end);
          pos = cursor;
        } else {
          name = this.nameAt(index);
        }
        value = readString(block, pos, end);
        pos = cursor;
        if ((b & 0x10) !== 0) never.push(fields.length >> 1);
      }
      if (fields !== null) {
        listSize += name.length + value.length + ENTRY_OVERHEAD;
        if (listSize > this.maxListSize) {
          fields = null;
          never.length = 0;
        } else {
          fields.push(name, value);
        }
      }
    }
    return fields;
  }

  /** Ring slot of dynamic HPACK index `index` (> 61); throws when there is no such entry. */
  private slotOf(index: number): number {
    const d = index - STATIC_LENGTH;
    if (d > this.inserted - this.evicted) throw compressionError(`index ${index} past the table`);
    return (this.inserted - d) & this.mask;
  }

  private nameAt(index: number): string {
    return index <= STATIC_LENGTH ? STATIC_NAMES[index]! : this.names[this.slotOf(index)]!;
  }

  /** Add an entry (section 4.4): evict until it fits; one larger than the table empties it. */
  private insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    if (size > this.capacity) {
      this.evictTo(0);
      return;
    }
    this.evictTo(this.capacity - size);
    if (this.inserted - this.evicted > this.mask) this.grow();
    const slot = this.inserted & this.mask;
    this.names[slot] = name;
    this.values[slot] = value;
    this.inserted++;
    this.size += size;
  }

  /** Evict oldest entries until the table holds at most `max` octets. */
  private evictTo(max: number): void {
    while (this.size > max) {
      const slot = this.evicted & this.mask;
      this.size -= this.names[slot]!.length + this.values[slot]!.length + ENTRY_OVERHEAD;
      this.names[slot] = '';
      this.values[slot] = '';
      this.evicted++;
    }
  }

  private grow(): void {
    const cap = (this.mask + 1) * 2;
    const names = new Array<string>(cap).fill('');
    const values = new Array<string>(cap).fill('');
    for (let id = this.evicted; id < this.inserted; id++) {
      names[id & (cap - 1)] = this.names[id & this.mask]!;
      values[id & (cap - 1)] = this.values[id & this.mask]!;
    }
    this.names = names;
    this.values = values;
    this.mask = cap - 1;
  }
}

// ---- encoder ---------------------------------------------------------------------------------

/** How the encoder represents fields of a name that is not fully indexed. */
const Policy = {
  /** Literal with incremental indexing (section 6.2.1). */
  INDEX: 0,
  /** Literal without indexing (section 6.2.2). */
  NO_INDEX: 1,
  /** Literal never indexed (section 6.2.3). */
  NEVER: 2,
} as const;
type Policy = (typeof Policy)[keyof typeof Policy];

/**
 * Never indexed (RFC 7541 section 7.1.3): credentials, which an attacker who can add headers
 * could otherwise guess byte by byte from the compressed size (CRIME). All cookies are never
 * indexed, long or short (nghttp2 indexes cookies of 20 bytes and more; a server rarely sends
 * `cookie`, so the simpler rule costs nothing).
 */
const NEVER_INDEXED: readonly string[] = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'];

/**
 * Literal without indexing: values that change with nearly every response, which would only push
 * useful entries (content-type, server, cache-control) out of the table.
 */
const NOT_INDEXED: readonly string[] = ['date', 'content-length', 'etag', 'last-modified', 'age'];

/** Everything the encoder knows about one name: static indices, policy, dynamic entries. */
class NameInfo {
  /** The newest dynamic entry id with this name, or -1. */
  dynId = -1;
  /** Value to the newest dynamic entry id holding it; only live entries. */
  dynValues: Map<string, number> | null = null;
  /**
   * For a not-indexed name (`date`...): the last value sent and its whole representation, which
   * depends on nothing but the value (a static name index, no table state). `date` repeats for a
   * second at a time, so its Huffman code is copied, not recomputed.
   */
  litValue: string | null = null;
  litBytes: Uint8Array | null = null;
  litLength = 0;

  constructor(
    readonly name: string,
    readonly staticIndex: number,
    readonly staticValues: ReadonlyMap<string, number> | null,
    readonly policy: Policy,
  ) {}
}

function policyOf(name: string): Policy {
  if (NEVER_INDEXED.includes(name)) return Policy.NEVER;
  if (NOT_INDEXED.includes(name)) return Policy.NO_INDEX;
  return Policy.INDEX;
}

/** Options of {@link HpackEncoder}. */
export interface HpackEncoderOptions {
  /**
   * Our own cap on the dynamic table (default 4096): we use min(this, the peer's
   * SETTINGS_HEADER_TABLE_SIZE). Below 4096, the first block opens with a size update.
   */
  maxTableSize?: number;
  /** Use Huffman where it is shorter (default true). */
  huffman?: boolean;
}

/** The encoder's state, to undo an encoding that did not fit. */
interface EncoderSnapshot {
  names: string[];
  values: string[];
  capacity: number;
  pendingMin: number;
  pendingFinal: number;
}

/**
 * Encodes header lists into header blocks (RFC 7541), keeping our dynamic table in step with the
 * peer's decoder. Exact static and dynamic matches become one indexed octet; other fields are
 * literals, indexed unless their name says otherwise (credentials never, per-response values like
 * `date` not at all) or the entry would take over 3/4 of the table.
 *
 * @example
 * const enc = new HpackEncoder();
 * enc.encode([':status', '200']); // Uint8Array [0x88]
 */
export class HpackEncoder {
  private infos: Map<string, NameInfo> = HpackEncoder.freshInfos();
  /** Ring of entries: the name's info and the value. */
  private entInfo: (NameInfo | null)[] = new Array<NameInfo | null>(16).fill(null);
  private entValue: string[] = new Array<string>(16).fill('');
  private mask = 15;
  private inserted = 0;
  private evicted = 0;
  private size = 0;
  /** The table's maximum size, as the peer's decoder knows it after our pending update. */
  private capacity: number;
  private readonly ownLimit: number;
  private readonly huffman: boolean;
  /** Smallest and last size since the last block, to signal (section 4.2), or -1. */
  private pendingMin = -1;
  private pendingFinal = -1;
  /** Entries evicted during the current `encodeInto`, oldest first, as name info and value pairs. */
  private readonly evictLog: (NameInfo | string)[] = [];

  constructor(options?: HpackEncoderOptions) {
    this.ownLimit = options?.maxTableSize ?? DEFAULT_TABLE_SIZE;
    this.huffman = options?.huffman ?? true;
    this.capacity = Math.min(DEFAULT_TABLE_SIZE, this.ownLimit);
    if (this.capacity !== DEFAULT_TABLE_SIZE) {
      this.pendingMin = this.capacity;
      this.pendingFinal = this.capacity;
    }
  }

  private static freshInfos(): Map<string, NameInfo> {
    const infos = new Map<string, NameInfo>();
    for (const [name, s] of STATIC_BY_NAME)
      infos.set(name, new NameInfo(name, s.index, s.values, policyOf(name)));
    return infos;
  }

  /** Current dynamic table size in octets (RFC 7541 section 4.1). */
  get tableSize(): number {
    return this.size;
  }

  /** Current number of dynamic table entries. */
  get tableLength(): number {
    return this.inserted - this.evicted;
  }

  /** The table's maximum size in use: min(the peer's setting, our own cap). */
  get maxTableSize(): number {
    return this.capacity;
  }

  /** The dynamic table as a flat `[name, value, ...]` list, newest (index 62) first: for tests and the inspector. */
  tableEntries(): string[] {
    const out: string[] = [];
    for (let id = this.inserted - 1; id >= this.evicted; id--) {
      out.push(this.entInfo[id & this.mask]!.name, this.entValue[id & this.mask]!);
    }
    return out;
  }

  /**
   * The peer's SETTINGS_HEADER_TABLE_SIZE changed: we use min(n, our own cap), shrink the table now
   * and open the next block with the size update(s) (RFC 7541 sections 4.2, 6.3: the smallest size
   * since the last block, then the final one).
   */
  setMaxTableSize(n: number): void {
    const size = Math.min(n, this.ownLimit);
    if (size === this.capacity && this.pendingFinal < 0) return;
    this.capacity = size;
    this.evictTo(size);
    this.pendingMin = this.pendingMin < 0 ? size : Math.min(this.pendingMin, size);
    this.pendingFinal = size;
  }

  /**
   * Encode a flat `[name, value, ...]` list (names already lower-case; byte strings) into `out` at
   * `offset`. Returns the position after the block, or -1 when it did not fit (the encoder is then
   * unchanged: retry with a bigger buffer). Throws `Http2Error` (`H2_INVALID_HEADER`), also with
   * the encoder unchanged, when a string has a char above 0xFF.
   */
  encodeInto(fields: readonly string[], out: Uint8Array, offset: number): number {
    const bound = HpackEncoder.maxEncodedLength(fields);
    const room = out.length - offset;
    const inserted = this.inserted;
    const evicted = this.evicted;
    const pendingMin = this.pendingMin;
    const pendingFinal = this.pendingFinal;
    if (this.evictLog.length !== 0) this.evictLog.length = 0;
    if (room >= bound) {
      try {
        return this.write(fields, out, offset);
      } catch (e) {
        this.rollback(inserted, evicted, pendingMin, pendingFinal);
        throw e;
      }
    }
    // Might not fit: encode aside, and roll back if it does not.
    const tmp = new Uint8Array(bound);
    let n: number;
    try {
      n = this.write(fields, tmp, 0);
    } catch (e) {
      this.rollback(inserted, evicted, pendingMin, pendingFinal);
      throw e;
    }
    if (n > room) {
      this.rollback(inserted, evicted, pendingMin, pendingFinal);
      return -1;
    }
    out.set(tmp.subarray(0, n), offset);
    return offset + n;
  }

  /** Encode into a fresh `Uint8Array` (a view of exactly the block). */
  encode(fields: readonly string[]): Uint8Array {
    const out = new Uint8Array(HpackEncoder.maxEncodedLength(fields));
    return out.subarray(0, this.encodeInto(fields, out, 0));
  }

  /**
   * The most octets `encodeInto` can write for `fields` (a buffer this big never gets -1): 12 for
   * size updates, then per field a representation octet with its index (6), two length prefixes
   * (6 each) and the strings (Huffman only where shorter): 12 + the sum of `s.length + 9`.
   */
  static maxEncodedLength(fields: readonly string[]): number {
    let bound = 2 * MAX_INT_BYTES;
    for (let i = 0; i < fields.length; i++) bound += fields[i]!.length + 9;
    return bound;
  }

  /** Write the block; the room is checked by the caller. */
  private write(fields: readonly string[], out: Uint8Array, pos: number): number {
    if (this.pendingFinal >= 0) {
      // 001xxxxx size updates (section 6.3): the smallest since the last block, then the final.
      if (this.pendingMin < this.pendingFinal) pos = writeInt(out, pos, 0x20, 5, this.pendingMin);
      pos = writeInt(out, pos, 0x20, 5, this.pendingFinal);
      this.pendingMin = -1;
      this.pendingFinal = -1;
    }
    const n = fields.length - 1;
    for (let i = 0; i < n; i += 2) {
      const name = fields[i]!;
      const value = fields[i + 1]!;
      let info = this.infos.get(name);
      let nameIndex = 0;
      let policy: Policy = Policy.INDEX;
      if (info !== undefined) {
        if (info.staticValues !== null) {
          const si = info.staticValues.get(value);
          if (si !== undefined) {
            out[pos++] = 0x80 | si; // 1xxxxxxx indexed, static (< 127)
            continue;
          }
        }
        if (info.dynValues !== null) {
          const id = info.dynValues.get(value);
          if (id !== undefined) {
            pos = writeInt(out, pos, 0x80, 7, STATIC_LENGTH + this.inserted - id);
            continue;
          }
        }
        if (info.staticIndex !== 0) nameIndex = info.staticIndex;
        else if (info.dynId >= 0) nameIndex = STATIC_LENGTH + this.inserted - info.dynId;
        policy = info.policy;
      }
      // An entry over 3/4 of the table would flush nearly all of it: send it unindexed.
      if (policy === Policy.INDEX && (name.length + value.length + ENTRY_OVERHEAD) * 4 > this.capacity * 3) {
        policy = Policy.NO_INDEX;
      }
      if (info !== undefined && info.policy === Policy.NO_INDEX && value.length >= 8) {
        pos = this.writeCached(info, value, out, pos);
        continue;
      }
      if (policy === Policy.INDEX) pos = writeInt(out, pos, 0x40, 6, nameIndex);
      else pos = writeInt(out, pos, policy === Policy.NEVER ? 0x10 : 0x00, 4, nameIndex);
      if (nameIndex === 0) pos = this.writeString(name, out, pos);
      pos = this.writeString(value, out, pos);
      if (policy === Policy.INDEX) {
        if (info === undefined) info = new NameInfo(name, 0, null, Policy.INDEX);
        this.insert(info, value);
      }
    }
    return pos;
  }

  /** A not-indexed field of a static name (0000 + index, section 6.2.2), through the name's cache. */
  private writeCached(info: NameInfo, value: string, out: Uint8Array, pos: number): number {
    const bytes = info.litBytes;
    if (info.litValue === value && bytes !== null) {
      const n = info.litLength;
      for (let i = 0; i < n; i++) out[pos + i] = bytes[i]!;
      return pos + n;
    }
    const start = pos;
    pos = writeInt(out, pos, 0x00, 4, info.staticIndex);
    pos = this.writeString(value, out, pos);
    const n = pos - start;
    if (bytes === null || bytes.length < n) info.litBytes = out.slice(start, pos);
    else bytes.set(out.subarray(start, pos));
    info.litValue = value;
    info.litLength = n;
    return pos;
  }

  /**
   * A string literal (section 5.2): Huffman where strictly shorter. Below 127 octets the code is
   * written in one pass after a one-octet length, given up as soon as it is not shorter.
   */
  private writeString(s: string, out: Uint8Array, pos: number): number {
    const len = s.length;
    if (this.huffman && len > 0) {
      if (len < 0x7f) {
        const end = huffmanEncode(s, out, pos + 1, pos + len);
        if (end >= 0) {
          out[pos] = 0x80 | (end - pos - 1); // H bit, 7-bit length
          return end;
        }
        if (end === HUFFMAN_NOT_BYTES) throw notBytes();
      } else {
        const h = huffmanLength(s);
        if (h < 0) throw notBytes();
        if (h < len) return huffmanEncode(s, out, writeInt(out, pos, 0x80, 7, h));
      }
    }
    pos = writeInt(out, pos, 0x00, 7, len);
    let any = 0;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      any |= c;
      out[pos++] = c;
    }
    if (any > 0xff) throw notBytes();
    return pos;
  }

  /** Add an entry that fits (the caller checked it is at most 3/4 of the table). */
  private insert(info: NameInfo, value: string): void {
    const size = info.name.length + value.length + ENTRY_OVERHEAD;
    this.evictTo(this.capacity - size);
    // A name with no static entry is in `infos` only while it has dynamic entries.
    if (info.dynId < 0 && info.staticIndex === 0) this.infos.set(info.name, info);
    if (this.inserted - this.evicted > this.mask) this.grow();
    const id = this.inserted++;
    const slot = id & this.mask;
    this.entInfo[slot] = info;
    this.entValue[slot] = value;
    this.size += size;
    info.dynId = id;
    if (info.dynValues === null) info.dynValues = new Map();
    info.dynValues.set(value, id);
  }

  private evictTo(max: number): void {
    while (this.size > max) {
      const id = this.evicted++;
      const slot = id & this.mask;
      const info = this.entInfo[slot]!;
      const value = this.entValue[slot]!;
      this.entInfo[slot] = null;
      this.entValue[slot] = '';
      this.evictLog.push(info, value);
      this.size -= info.name.length + value.length + ENTRY_OVERHEAD;
      const values = info.dynValues!;
      if (values.get(value) === id) values.delete(value);
      if (info.dynId === id) {
        // Its newest entry is gone, so all of them are.
        info.dynId = -1;
        if (info.staticIndex === 0) this.infos.delete(info.name);
      }
    }
  }

  private grow(): void {
    const cap = (this.mask + 1) * 2;
    const infos = new Array<NameInfo | null>(cap).fill(null);
    const values = new Array<string>(cap).fill('');
    for (let id = this.evicted; id < this.inserted; id++) {
      infos[id & (cap - 1)] = this.entInfo[id & this.mask]!;
      values[id & (cap - 1)] = this.entValue[id & this.mask]!;
    }
    this.entInfo = infos;
    this.entValue = values;
    this.mask = cap - 1;
  }

  /**
   * Undo an `encodeInto` that failed: rebuild the table as it was when the call began (entries
   * `evicted .. inserted - 1` then), from the ring and the entries it evicted since.
   */
  private rollback(inserted: number, evicted: number, pendingMin: number, pendingFinal: number): void {
    const names: string[] = [];
    const values: string[] = [];
    for (let id = evicted; id < inserted; id++) {
      if (id < this.evicted) {
        const k = (id - evicted) * 2;
        names.push((this.evictLog[k] as NameInfo).name);
        values.push(this.evictLog[k + 1] as string);
      } else {
        names.push(this.entInfo[id & this.mask]!.name);
        values.push(this.entValue[id & this.mask]!);
      }
    }
    this.restore({ names, values, capacity: this.capacity, pendingMin, pendingFinal });
  }

  private restore(snap: EncoderSnapshot): void {
    this.infos = HpackEncoder.freshInfos();
    this.entInfo = new Array<NameInfo | null>(16).fill(null);
    this.entValue = new Array<string>(16).fill('');
    this.mask = 15;
    this.inserted = 0;
    this.evicted = 0;
    this.size = 0;
    this.capacity = snap.capacity;
    this.pendingMin = snap.pendingMin;
    this.pendingFinal = snap.pendingFinal;
    for (let i = 0; i < snap.names.length; i++) {
      const name = snap.names[i]!;
      const info = this.infos.get(name) ?? new NameInfo(name, 0, null, Policy.INDEX);
      this.insert(info, snap.values[i]!);
    }
  }
}
