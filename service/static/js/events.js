// Server-sent events read with fetch() and a stream reader: EventSource cannot send the
// Authorization header. Reconnects with the server's retry delay.
import { api } from "./api.js";
import { state } from "./state.js";

export function parseEvent(block) {
  let event = "message";
  const data = [];
  let retry = 0;
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    else if (field === "retry" && /^\d+$/.test(value)) retry = Number(value);
  }
  return { event, data: data.length ? data.join("\n") : null, retry };
}

// handlers: { onEvent(kind, data), onConnected(bool), onReconnect() }
export async function startEvents(handlers) {
  if (state.eventsAbort) state.eventsAbort.abort();
  const abort = new AbortController();
  state.eventsAbort = abort;
  let retry = 2000;
  while (!abort.signal.aborted && state.key) {
    try {
      const response = await api("events", { raw: true, signal: abort.signal });
      handlers.onConnected(true);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const parsed = parseEvent(block);
          if (parsed.retry) retry = parsed.retry;
          if (parsed.data !== null) {
            let data;
            try { data = JSON.parse(parsed.data); } catch { continue; }
            handlers.onEvent(parsed.event, data);
          }
        }
      }
    } catch {
      if (abort.signal.aborted) return;
    }
    if (abort.signal.aborted || !state.key) return;
    handlers.onConnected(false);
    await new Promise((resolve) => setTimeout(resolve, retry));
    handlers.onReconnect();
  }
}

export function stopEvents() {
  if (state.eventsAbort) state.eventsAbort.abort();
  state.eventsAbort = null;
}
