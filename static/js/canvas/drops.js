// What is dropped on the canvas: files (an image or a soundtrack makes a node, a video a Clip node),
// characters from the library, node types from the palette. Files dropped onto an Image, Audio or
// Clip card replace that card's file (undoable).

import { api, upload } from "./api.js";
import { escape } from "./cards.js";

const NODE_OF_KIND = { image: "image", audio: "audio", video: "clip" };

export function installDrops({ store, view, editor, toast, run, characters, addNodeAt }) {
  const viewport = view.viewport;

  // An upload shown where it will land, with its progress; the asset it made.
  async function uploadAt(file, at) {
    const placeholder = document.createElement("div");
    placeholder.className = "node uploading";
    placeholder.style.left = `${at.x}px`;
    placeholder.style.top = `${at.y}px`;
    placeholder.innerHTML = `<header class="node-head"><span class="node-title">${escape(file.name)}</span></header>
      <div class="progress" data-upload-progress><div class="bar" style="width:0%"></div><span class="label">Uploading 0%</span></div>`;
    view.nodesLayer.append(placeholder);
    try {
      return await upload(`/projects/${store.projectId}/assets`, file, (fraction) => {
        placeholder.querySelector(".bar").style.width = `${Math.round(fraction * 100)}%`;
        placeholder.querySelector(".label").textContent = `Uploading ${Math.round(fraction * 100)}%`;
      });
    } finally {
      placeholder.remove();
    }
  }

  async function dropFile(file, at) {
    try {
      const asset = await uploadAt(file, at);
      const type = NODE_OF_KIND[asset.kind];
      const title = file.name.replace(/\.[^.]+$/, "").slice(0, 120);
      const node = await editor.addNode({ type, title, x: Math.round(at.x), y: Math.round(at.y), params: { asset_id: asset.id } });
      if (type === "image") run([node.id], { confirm: false }); // finding the face costs nothing
      return node;
    } catch (error) {
      toast(`${file.name}: ${error.message}`, "error");
      return null;
    }
  }

  // A new file for an existing Image, Audio or Clip node: uploaded, then set as its asset.
  async function replaceFile(nodeId, file) {
    const node = store.nodes.get(nodeId);
    try {
      const asset = await uploadAt(file, { x: node.x, y: node.y });
      if (NODE_OF_KIND[asset.kind] !== node.type) {
        toast(`${file.name} is ${asset.kind === "audio" ? "audio" : `a ${asset.kind}`}: this ${store.type(node.type)?.label || node.type} node takes ${kindOfNode(node.type)} files.`, "warning");
        return;
      }
      await editor.setParams(nodeId, { asset_id: asset.id });
      if (node.type === "image") run([nodeId], { confirm: false });
    } catch (error) {
      toast(`${file.name}: ${error.message}`, "error");
    }
  }

  async function placeCharacter(characterId, at) {
    try {
      const asset = await api("POST", `/projects/${store.projectId}/assets/from-character/${characterId}`);
      const character = characters.byId.get(characterId);
      const params = { asset_id: asset.id, character: characterId };
      const node = await editor.addNode({ type: "image", title: character?.name || "Character", x: Math.round(at.x), y: Math.round(at.y), params });
      run([node.id], { confirm: false }); // it outputs the character as it is: nothing to pay
    } catch (error) {
      toast(error.message, "error");
    }
  }

  viewport.addEventListener("dragover", (event) => {
    if (!store.canEdit) return;
    event.preventDefault();
    viewport.classList.add("dropping");
    const card = event.target.closest?.("[data-node-id]");
    for (const marked of view.nodesLayer.querySelectorAll(".file-target")) if (marked !== card) marked.classList.remove("file-target");
    if (card && acceptsFiles(store.nodes.get(card.dataset.nodeId)) && event.dataTransfer.types.includes("Files")) card.classList.add("file-target");
  });
  viewport.addEventListener("dragleave", (event) => {
    if (event.target === viewport) viewport.classList.remove("dropping");
  });
  viewport.addEventListener("drop", (event) => {
    if (!store.canEdit) return;
    event.preventDefault();
    viewport.classList.remove("dropping");
    for (const marked of view.nodesLayer.querySelectorAll(".file-target")) marked.classList.remove("file-target");
    const at = view.toWorld(event.clientX, event.clientY);
    const type = event.dataTransfer.getData("application/x-reelgraph-type");
    if (type) return addNodeAt(type, at);
    const character = event.dataTransfer.getData("application/x-reelgraph-character");
    if (character) return placeCharacter(character, at);
    const files = [...event.dataTransfer.files];
    const card = event.target.closest?.("[data-node-id]");
    const target = card && store.nodes.get(card.dataset.nodeId);
    if (files.length === 1 && acceptsFiles(target)) return replaceFile(target.id, files[0]);
    files.forEach((file, index) => dropFile(file, { x: at.x + index * 30, y: at.y + index * 30 }));
  });

  return { dropFile, replaceFile, placeCharacter };
}

export function acceptsFiles(node) {
  return Boolean(node && Object.values(NODE_OF_KIND).includes(node.type));
}

function kindOfNode(type) {
  return Object.keys(NODE_OF_KIND).find((kind) => NODE_OF_KIND[kind] === type);
}
