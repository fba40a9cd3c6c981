// The characters library in the palette: the user's characters, dragged onto the canvas to use them.
// It is loaded again when a node's output names a character it does not know yet.

import { api } from "./api.js";
import { escape } from "./cards.js";

export function installCharacters({ root, store }) {
  const list = root.querySelector("[data-palette-characters]");
  const byId = new Map();
  let timer = 0;

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(load, 500);
  }

  async function load() {
    if (!list) return;
    const page = await api("GET", "/characters?page_size=100").catch(() => ({ items: [] }));
    for (const character of page.items) byId.set(character.id, character);
    list.innerHTML = page.items.length
      ? page.items
          .map(
            (c) => `<li draggable="true" data-character="${escape(c.id)}" title="Drag onto the canvas">
            ${c.face_url ? `<img src="${escape(c.face_url)}" alt="" draggable="false">` : ""}<span>${escape(c.name)}</span>${c.approximate ? '<span class="badge approximate">approximate</span>' : ""}</li>`,
          )
          .join("")
      : '<li class="muted small">Characters appear here when an image shows a face.</li>';
  }

  list?.addEventListener("dragstart", (event) => {
    const item = event.target.closest("[data-character]");
    if (item) event.dataTransfer.setData("application/x-reelgraph-character", item.dataset.character);
  });
  const noticeNew = (event) => {
    const character = event.node.output?.character;
    if (character && !byId.has(character)) schedule();
  };
  for (const type of ["node.status", "node.output", "node.created", "node.updated"]) store.register(type, noticeNew);
  load();
  return { byId, schedule };
}
