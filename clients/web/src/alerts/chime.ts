/**
 * A short two-note chime made with Web Audio (no sound file to fetch, works offline). Browsers start an
 * AudioContext suspended until the user interacts with the page, so `unlockAudio` runs on the first click or
 * key press; before that `chime` is silent rather than queued.
 */
let context: AudioContext | null = null;

export function unlockAudio(): void {
  const Ctor = globalThis.AudioContext ?? (globalThis as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
  if (!Ctor) return;
  context ??= new Ctor();
  if (context.state === 'suspended') void context.resume().catch(() => {});
}

/** Plays the chime; returns false when audio is not available or not unlocked yet. */
export function chime(): boolean {
  if (!context || context.state !== 'running') return false;
  const start = context.currentTime + 0.01;
  const notes: Array<[frequency: number, at: number]> = [
    [880, 0],
    [1318.5, 0.12],
  ];
  for (const [frequency, at] of notes) {
    const osc = context.createOscillator();
    const gain = context.createGain();
    osc.type = 'sine';
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + at);
    gain.gain.exponentialRampToValueAtTime(0.18, start + at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + at + 0.45);
    osc.connect(gain).connect(context.destination);
    osc.start(start + at);
    osc.stop(start + at + 0.5);
  }
  return true;
}
