let counter = 0;

/** A random base-36 string; the mini-program has no crypto module, and these need no secrecy. */
function randomPart(length: number, random: () => number): string {
  let out = '';
  while (out.length < length) out += Math.floor(random() * 36 ** 6).toString(36);
  return out.slice(0, length);
}

/** A client message id, unique per sender: time, a per-launch counter and randomness. */
export function newCid(random: () => number = Math.random): string {
  counter = (counter + 1) % 1_000_000;
  return `${Date.now().toString(36)}-${counter.toString(36)}-${randomPart(8, random)}`;
}

/** The development device id: generated once per installation, kept in storage. */
export function newDeviceId(random: () => number = Math.random): string {
  return `dev_${randomPart(24, random)}`;
}
