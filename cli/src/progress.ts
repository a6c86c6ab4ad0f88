/** A one-line progress bar on stderr, drawn only on a terminal; a pipe or CI log gets a final summary. */
export class Progress {
  private done = 0;
  private lastDraw = 0;
  private readonly start = Date.now();
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(
    private readonly label: string,
    private readonly total: number | undefined,
  ) {}

  add(bytes: number): void {
    this.done += bytes;
    const now = Date.now();
    if (this.tty && now - this.lastDraw > 100) {
      this.lastDraw = now;
      this.draw();
    }
  }

  finish(): void {
    if (this.tty) {
      this.draw();
      process.stderr.write('\n');
    } else {
      process.stderr.write(`${this.label}: ${mib(this.done)} in ${((Date.now() - this.start) / 1000).toFixed(1)} s\n`);
    }
  }

  private draw(): void {
    const secs = Math.max(0.001, (Date.now() - this.start) / 1000);
    const rate = `${mib(this.done / secs)}/s`;
    if (this.total) {
      const frac = Math.min(1, this.done / this.total);
      const width = 24;
      const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, ' ');
      process.stderr.write(`\r${this.label} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${mib(this.done)}/${mib(this.total)} ${rate}   `);
    } else {
      process.stderr.write(`\r${this.label} ${mib(this.done)} ${rate}   `);
    }
  }
}

const mib = (bytes: number) => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`);
