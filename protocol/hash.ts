/**
 * Non-cryptographic string hashing shared by the widget and the trainer.
 *
 * FNV-1a is used for feature hashing (strings into buckets) and for the feature-spec version
 * hash: it is synchronous (crypto.subtle is not), tiny, and identical in every JS runtime, which
 * is what matters when the browser and Node must agree bit for bit. It is not a security hash.
 */

/** 32-bit FNV-1a over the UTF-16 code units of `text`, seeded so two hashes can be combined. */
export function fnv1a32(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** 32-bit FNV-1a over 32-bit words (a model's weights, say): each word folded in as one unit. */
export function fnv1a32Words(words: Uint32Array, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let i = 0; i < words.length; i++) hash = Math.imul(hash ^ words[i]!, 0x01000193);
  return hash >>> 0;
}

/** The bucket a string falls into among `buckets` (feature hashing). */
export function bucketOf(text: string, buckets: number): number {
  return fnv1a32(text) % buckets;
}

/** A 64-bit hex digest made of two independently seeded FNV-1a passes: collisions between spec versions are negligible. */
export function digest64(text: string): string {
  const a = fnv1a32(text);
  const b = fnv1a32(text, 0x9747b28c);
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}
