/** A one-line progress bar on stderr for long steps (plain lines when stderr is not a terminal). */
export function progress(label: string, total: number): { tick(done: number, note?: string): void; done(note?: string): void } {
  const tty = process.stderr.isTTY;
  const draw = (done: number, note = '') => {
    const width = 24;
    const filled = Math.round((done / total) * width);
    const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${note}`;
    if (tty) process.stderr.write(`\r${line}`);
    else process.stderr.write(`${line}\n`);
  };
  return {
    tick: draw,
    done(note = '') {
      draw(total, note);
      if (tty) process.stderr.write('\n');
    },
  };
}
