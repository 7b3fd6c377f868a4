// Sound cues made in the browser (WebAudio): no files, nothing from outside. Three cues:
// done (two rising notes), problem (two low notes), forged (an alarm, repeated).
import { state } from "./state.js";

const CUES = {
  done: [[660, 0, 0.12], [880, 0.14, 0.16]],
  problem: [[330, 0, 0.18], [262, 0.22, 0.26]],
  forged: [[880, 0, 0.2], [440, 0.22, 0.2], [880, 0.44, 0.2], [440, 0.66, 0.2], [880, 0.88, 0.2], [440, 1.1, 0.3]],
};

let context = null;

export function play(name) {
  const notes = CUES[name];
  if (!notes) return;
  document.body.dataset.lastCue = state.prefs.muted ? `muted:${name}` : name;
  if (state.prefs.muted) return;
  try {
    context = context || new AudioContext();
    if (context.state === "suspended") context.resume();
    const start = context.currentTime + 0.02;
    for (const [freq, at, length] of notes) {
      const osc = context.createOscillator();
      const gain = context.createGain();
      osc.type = name === "forged" ? "square" : "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, start + at);
      gain.gain.exponentialRampToValueAtTime(name === "forged" ? 0.25 : 0.3, start + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + at + length);
      osc.connect(gain).connect(context.destination);
      osc.start(start + at);
      osc.stop(start + at + length + 0.05);
    }
  } catch {
    // no audio device: the cue is visual only
  }
}
