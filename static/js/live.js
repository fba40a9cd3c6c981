// A project's live channel: reconnects with backoff and hands every message to onEvent.
// Each (re)connect starts with a full snapshot, so a page never needs to replay missed events.
const REFUSED = 4403; // projects/consumers.py

export function connectProject(projectId, { onEvent, onState }) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}/ws/projects/${projectId}/`;
  let delay = 500;
  let socket;
  let closedByPage = false;

  function open() {
    onState?.("connecting");
    socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      delay = 500;
      onState?.("live");
    });
    socket.addEventListener("message", (message) => onEvent(JSON.parse(message.data)));
    socket.addEventListener("close", (event) => {
      if (closedByPage) return;
      if (event.code === REFUSED) return onState?.("refused"); // removed from the project: retrying cannot help
      onState?.("offline");
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 15000);
    });
  }

  open();
  return {
    send: (data) => socket?.readyState === WebSocket.OPEN && socket.send(JSON.stringify(data)),
    close: () => {
      closedByPage = true;
      socket?.close();
    },
  };
}
