/**
 * Placement of entities in a cluster: `shard = fnv1a32(utf8(kind + '\0' + id)) mod shardCount`.
 * The function is part of the wire contract: every node (and any non-TypeScript producer) must compute
 * the same shard, so it is defined over UTF-8 bytes and must never change for a running cluster.
 */
import { InvalidOptionsError } from './errors.js';

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** The shard (0..shardCount-1) that owns entity `kind`/`id`. */
export function shardOf(kind: string, id: string, shardCount: number): number {
  if (!Number.isInteger(shardCount) || shardCount < 1) {
    throw new InvalidOptionsError('shardCount', shardCount, 'an integer >= 1');
  }
  let hash = hashString(FNV_OFFSET_BASIS, kind);
  hash = Math.imul(hash, FNV_PRIME); // the '\0' separator: xor with 0 is a no-op
  hash = hashString(hash, id);
  return (hash >>> 0) % shardCount;
}

/** 32-bit FNV-1a of the UTF-8 bytes of `text`, as an unsigned integer. */
export function fnv1a32(text: string): number {
  return hashString(FNV_OFFSET_BASIS, text) >>> 0;
}

/** Folds the UTF-8 encoding of `text` into `hash` without allocating the bytes. */
function hashString(hash: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (code < 0x80) {
      hash = Math.imul(hash ^ code, FNV_PRIME);
    } else if (code < 0x800) {
      hash = Math.imul(hash ^ (0xc0 | (code >> 6)), FNV_PRIME);
      hash = Math.imul(hash ^ (0x80 | (code & 0x3f)), FNV_PRIME);
    } else if (code < 0x10000) {
      // A lone surrogate is hashed as its own three bytes (as WTF-8 does), not replaced.
      hash = Math.imul(hash ^ (0xe0 | (code >> 12)), FNV_PRIME);
      hash = Math.imul(hash ^ (0x80 | ((code >> 6) & 0x3f)), FNV_PRIME);
      hash = Math.imul(hash ^ (0x80 | (code & 0x3f)), FNV_PRIME);
    } else {
      hash = Math.imul(hash ^ (0xf0 | (code >> 18)), FNV_PRIME);
      hash = Math.imul(hash ^ (0x80 | ((code >> 12) & 0x3f)), FNV_PRIME);
      hash = Math.imul(hash ^ (0x80 | ((code >> 6) & 0x3f)), FNV_PRIME);
      hash = Math.imul(hash ^ (0x80 | (code & 0x3f)), FNV_PRIME);
    }
  }
  return hash;
}
