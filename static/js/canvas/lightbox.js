// A larger preview of a card's image or video: from the card menu, or a double-click on the
// preview. A modal <dialog>, so Escape closes it and the canvas's shortcuts pause meanwhile.

import { escape } from "./cards.js";

export class Lightbox {
  constructor({ root, store, view }) {
    this.store = store;
    this.dialog = document.createElement("dialog");
    this.dialog.className = "lightbox";
    this.dialog.dataset.lightbox = "";
    this.dialog.setAttribute("aria-label", "Larger preview");
    root.append(this.dialog);
    this.dialog.addEventListener("close", () => this.dialog.replaceChildren()); // stops the video
    // A click on the dark backdrop (the dialog itself, outside its content) closes it too.
    this.dialog.addEventListener("click", (event) => event.target === this.dialog && this.dialog.close());
    view.nodesLayer.addEventListener("dblclick", (event) => {
      const media = event.target.closest(".preview img, .preview video");
      const id = media && event.target.closest("[data-node-id]")?.dataset.nodeId;
      if (!id) return;
      event.stopPropagation();
      event.preventDefault(); // not the browser's own full screen for a double-clicked video too
      if (media.tagName === "VIDEO") media.pause(); // its two clicks started it: the larger one plays instead
      leaveFullScreenOf(media); // the browser's own double-click action on a video, which preventDefault does not stop
      this.open(id);
    });
  }

  // The image or video a card shows, or null (a moderator may have hidden it).
  mediaOf(id) {
    const node = this.store.nodes.get(id);
    for (const port of ["video", "clip", "image"]) {
      const media = node?.media?.[node.output?.[port]];
      if (media?.url && !media.hidden) return { ...media, kind: port === "image" ? "image" : "video" };
    }
    return null;
  }

  canOpen(id) {
    return Boolean(this.mediaOf(id));
  }

  open(id) {
    const media = this.mediaOf(id);
    if (!media) return;
    const node = this.store.nodes.get(id);
    const title = escape(this.store.nameOf(node));
    const body =
      media.kind === "video"
        ? `<video controls autoplay playsinline src="${escape(media.url)}"${media.poster ? ` poster="${escape(media.poster)}"` : ""} data-lightbox-media></video>`
        : `<img src="${escape(media.url)}" alt="${title}" data-lightbox-media>`;
    this.dialog.innerHTML = `<header><strong>${title}</strong><button type="button" class="quiet" data-lightbox-close aria-label="Close">✕</button></header>${body}`;
    this.dialog.querySelector("[data-lightbox-close]").addEventListener("click", () => this.dialog.close());
    this.dialog.showModal();
    const video = this.dialog.querySelector("video");
    // Opening it is the user's gesture, so sound may play; a browser that still refuses plays it muted.
    video?.play().catch(() => {
      video.muted = true;
      return video.play().catch(() => {});
    });
  }
}

// Leaves full screen if (or as soon as) `element` takes it; a full screen chosen later stays.
function leaveFullScreenOf(element) {
  const leave = () => document.fullscreenElement === element && document.exitFullscreen().catch(() => {});
  leave();
  document.addEventListener("fullscreenchange", leave, { once: true });
  setTimeout(() => document.removeEventListener("fullscreenchange", leave), 1000);
}
