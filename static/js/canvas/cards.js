// The HTML of a node card. Everything user-supplied goes through escape().

export function escape(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

const MAKERS = {
  local: {
    video: "Offline render",
    prompt: "Offline enhancer",
    image: "Offline face detection (approximate)",
    extend: "Offline render",
    generate_image: "Offline render (not AI-generated)",
    music: "Offline render (not AI-generated)",
    storyboard: "Offline planner",
  },
  simulated: "Simulated provider",
  veo: "Google Veo 3.1",
  openai: "OpenAI",
  gemini: "Gemini",
  lyria: "Google Lyria",
  insightface: "InsightFace",
  ffmpeg: "ffmpeg",
};

// Offline faces are recognised by YuNet + SFace; only the Haar fallback (no model files) is approximate.
function offlineMaker(maker, type, model) {
  if (type === "image" && String(model).startsWith("sface")) return "Offline face recognition (YuNet + SFace)";
  return maker[type] || "Offline";
}

export function makerLabel(node) {
  const take = node.selected_take;
  if (!take) return "";
  if (!take.provider) return node.type === "prompt" ? "Your words" : "";
  const maker = MAKERS[take.provider];
  const name = typeof maker === "object" ? offlineMaker(maker, node.type, take.model) : maker || take.provider;
  const model = take.provider === "local" || !take.model ? "" : ` · ${take.model}`;
  return `${name}${model}`;
}

function money(value) {
  const amount = Number(value || 0);
  return amount === 0 ? "$0" : `$${amount.toFixed(2)}`;
}

function portRows(ports, direction) {
  return ports
    .map(
      (port) => `<div class="port ${direction}" data-port="${escape(port.name)}" data-kind="${escape(port.kind)}" data-direction="${direction}"
        title="${escape(port.label)}: ${escape(port.kind)}${port.multi ? ` (up to ${port.max_items || "many"})` : ""}${port.required ? ", required" : ""}">
        <span class="dot kind-${escape(port.kind)}" data-dot></span><span class="port-label">${escape(port.label)}${port.required ? "*" : ""}</span>
      </div>`,
    )
    .join("");
}

function mediaOf(node, port) {
  const id = node.output?.[port];
  return id ? node.media?.[id] : null;
}

function hiddenNotice(media) {
  return `<p class="warning small" data-hidden>Hidden by a moderator: ${escape(media.hidden)}</p>`;
}

// Whether the node shows a file that can be reported.
function showsFiles(node) {
  return Object.values(node.media || {}).some((media) => media.url);
}

// The Prompt card's own text field: what the user writes is edited where it is shown.
function inlinePrompt(node, canEdit) {
  if (node.type !== "prompt" || !canEdit) return "";
  return `<div class="inline-edit"><textarea class="inline-prompt" data-inline="text" rows="3" maxlength="4000" placeholder="Describe the shot…" aria-label="Prompt text">${escape(node.params?.text)}</textarea>
    <span class="inline-state small" data-inline-state></span></div>`;
}

function preview(node) {
  const parts = [];
  const details = node.selected_take?.details || {};
  if (node.type === "storyboard") parts.push(shotList(node));
  if (node.type === "prompt" && node.output?.text) {
    parts.push(`<p class="prompt-text" data-output-text>${escape(node.output.text)}</p>`);
    if (details.original && details.original !== node.output.text) {
      parts.push(`<p class="prompt-original"><span>Your words:</span> ${escape(details.original)}</p>`);
    }
  }
  const image = mediaOf(node, "image");
  if (image?.hidden) parts.push(hiddenNotice(image));
  else if (image) parts.push(`<img class="thumb" src="${escape(image.url)}" alt="" loading="lazy" draggable="false">`);
  const characterId = node.output?.character;
  const character = characterId ? node.characters?.[characterId] : null;
  if (character) {
    parts.push(`<div class="character-chip" data-character="${escape(characterId)}">
      ${character.face ? `<img src="${escape(character.face)}" alt="" draggable="false">` : ""}
      <span>${escape(character.name)}</span>${character.approximate ? '<span class="badge approximate" title="Offline face detection recognises the same photo, not the same person">approximate</span>' : ""}
      ${details.character && !details.character.created && details.character.similarity != null ? `<span class="similarity" title="Similarity to this character">${Number(details.character.similarity).toFixed(2)}</span>` : ""}
    </div>`);
  }
  if (character?.hidden) parts.push(hiddenNotice(character));
  if (details.notice) parts.push(`<p class="notice small">${escape(details.notice)}</p>`);
  const video = mediaOf(node, "video");
  if (video?.hidden) parts.push(hiddenNotice(video));
  else if (video) {
    parts.push(`<video controls preload="metadata" src="${escape(video.url)}"${video.poster ? ` poster="${escape(video.poster)}"` : ""} data-video></video>`);
    parts.push(`<a class="download" href="${escape(video.url)}" download="${escape(node.title || node.type)}.mp4" data-download>Download MP4</a>`);
    if (details.identity_drift !== undefined) {
      const scores = Object.values(details.identity || {})
        .map((score) => `${escape(score.name)} ${score.score == null ? "not comparable" : Number(score.score).toFixed(2)}`)
        .join(", ");
      parts.push(`<p class="${details.identity_drift ? "warning" : "muted"} small">${details.identity_drift ? "Identity drift: " : "Identity held: "}${scores}</p>`);
    }
  }
  const audio = mediaOf(node, "audio");
  if (audio?.hidden) parts.push(hiddenNotice(audio));
  else if (audio) parts.push(`<audio controls preload="none" src="${escape(audio.url)}"></audio>`);
  return parts.join("");
}

// A storyboard's shots: as the user edited them, or as its last run planned them.
export function shotsOf(node) {
  return node.params?.shots?.length ? node.params.shots : node.selected_take?.details?.shots || [];
}

function shotList(node) {
  const shots = shotsOf(node);
  if (!shots.length) return "";
  const total = shots.reduce((sum, shot) => sum + Number(shot.seconds || 0), 0);
  const rows = shots
    .map((shot, index) => `<li data-shot-row><span class="shot-len">${index + 1} · ${escape(shot.seconds)} s${shot.continues ? " · continues" : ""}</span> ${escape(shot.description)}</li>`)
    .join("");
  return `<ol class="shot-list" data-shot-list aria-label="Shots">${rows}</ol><p class="muted small">${shots.length} shot${shots.length === 1 ? "" : "s"}, ${total} s${node.params?.shots?.length ? " · edited" : ""}</p>`;
}

const FILE_NODES = ["image", "audio", "clip"];

// What feeds a multi port (Stitch's clips), numbered in the order they are used.
function orderedInputs(type, ordered) {
  return (type?.inputs || [])
    .filter((port) => port.multi && ordered?.[port.name]?.length > 1)
    .map(
      (port) => `<ol class="multi-inputs" data-multi-inputs="${escape(port.name)}" aria-label="${escape(port.label)} in order">${ordered[port.name]
        .map((title, index) => `<li><span class="order">${index + 1}</span>${escape(title)}</li>`)
        .join("")}</ol>`,
    )
    .join("");
}

// A cached output that no longer matches its inputs says so, instead of a green "succeeded".
// A succeeded node whose output no longer matches its inputs is outdated: the server says so for the
// node that changed, the plan for everything downstream of it. A node the plan finds among its earlier
// takes is not: going back to that take costs nothing.
function statusOf(node, plan) {
  if (node.status !== "succeeded") return node.status;
  if (plan?.action === "cached") return "succeeded";
  return node.outdated || plan?.action === "run" ? "outdated" : "succeeded";
}

// An earlier take that the next run uses again instead of paying for a new one (undo, then run).
export function earlierTake(node, plan) {
  return plan?.action === "cached" && plan.take && plan.take !== node.selected_take?.number ? plan.take : null;
}

function planText(node, plan) {
  if (!plan) return "";
  if (plan.action !== "cached") {
    return `will run${plan.variations > 1 ? ` · ${plan.variations} takes` : ""} · est. ${money(plan.cost)}`;
  }
  const take = earlierTake(node, plan);
  return take ? `cached (take ${take}): the next run uses it again, free` : "cached: will not run";
}

// Canceled after the provider started it: the video is paid for all the same, and can still be
// collected (POST /jobs/{id}/keep) instead of thrown away.
function keepOffer(offer, canEdit) {
  const paid = `Canceled after ${escape(offer.provider)} started it: already paid for (about ${money(offer.cost)}).`;
  return `<div class="error keep" data-keep><span>${paid}${canEdit ? " Keep the video?" : ""}</span>${
    canEdit ? `<button type="button" data-action="keep" data-job="${escape(offer.job_id)}">Keep it</button>` : ""
  }</div>`;
}

function fileButtons(node, canEdit) {
  if (!canEdit || !FILE_NODES.includes(node.type)) return "";
  return `<button type="button" data-action="pick-file" title="Pick a file from your computer, or drop one on this card">${node.params?.asset_id ? "Replace file" : "Choose file"}</button>
    <button type="button" data-action="choose-asset" title="Use a file this project already has">From project</button>`;
}

export function cardHtml(node, type, { plan, problems, canEdit, ordered }) {
  const running = ["queued", "running"].includes(node.status);
  const status = statusOf(node, plan);
  const progress = Math.round((node.progress || 0) * 100);
  const planLine = planText(node, plan);
  return `
    <header class="node-head" data-drag-handle>
      <span class="node-title">${escape(node.title || type?.label || node.type)}</span>
      <span class="node-type">${escape(type?.label || node.type)}</span>
      <span class="badge status-${escape(status)}" data-status${status === "outdated" ? ' title="Its inputs or settings changed since this output was made: it will run again."' : ""}>${escape(status.replace("_", " "))}</span>
    </header>
    <div class="ports">
      <div class="inputs">${portRows(type?.inputs || [], "in")}</div>
      <div class="outputs">${portRows(type?.outputs || [], "out")}</div>
    </div>
    <div class="node-body">
    ${orderedInputs(type, ordered)}
    <div class="progress" data-progress ${running ? "" : "hidden"}>
      <div class="bar" style="width:${progress}%"></div><span class="label" data-progress-label>${progress}% ${escape(node.progress_label || node.status)}</span>
    </div>
    ${inlinePrompt(node, canEdit)}
    <div class="preview">${preview(node)}</div>
    ${variationsHtml(node, canEdit)}
    <div class="meta"><span class="maker" data-maker>${escape(makerLabel(node))}</span><span class="plan" data-plan>${escape(planLine)}</span></div>
    ${(problems || []).length ? `<ul class="problems" data-problems>${problems.map((p) => `<li>${escape(p.message)}</li>`).join("")}</ul>` : ""}
    ${node.keep ? keepOffer(node.keep, canEdit) : node.error ? `<div class="error" data-error><span>${escape(node.error)}</span>${canEdit ? '<button type="button" data-action="retry">Retry</button>' : ""}</div>` : ""}
    <footer class="node-actions">
      ${canEdit ? `<button type="button" data-action="run" title="Run this node and what it needs">Run</button>` : ""}
      ${fileButtons(node, canEdit)}
      ${canEdit && node.type === "storyboard" && shotsOf(node).length ? `<button type="button" data-action="expand" title="Make a Prompt, keyframe and Video per shot, stitched into one film">Expand</button>` : ""}
      ${node.selected_take ? `<button type="button" data-action="takes">Takes</button>` : ""}
      ${showsFiles(node) ? `<button type="button" data-action="report" class="quiet" title="Report this output to the moderators">Report</button>` : ""}
    </footer>
    <div class="takes" data-takes hidden></div>
    </div>`;
}

// The takes of a run that made several (the node's "variations"), side by side to pick from.
const VARIATION_STATUS = { waiting: "waiting", queued: "queued", running: "making…", canceled: "canceled" };

function variationMedia(media) {
  if (!media) return "";
  if (media.hidden) return hiddenNotice(media);
  if (media.kind === "image") return `<img src="${escape(media.url)}" alt="" loading="lazy" draggable="false">`;
  if (media.kind === "video") {
    return `<video controls preload="metadata" src="${escape(media.url)}"${media.poster ? ` poster="${escape(media.poster)}"` : ""}></video>`;
  }
  return `<audio controls preload="none" src="${escape(media.url)}"></audio>`;
}

function variationChoice(take, canEdit) {
  if (take.selected) return '<span class="badge">in use</span>';
  if (take.take_id) {
    return canEdit ? `<button type="button" data-action="use-take" data-take="${escape(take.take_id)}">Use</button>` : "";
  }
  if (take.status === "failed" || take.status === "needs_attention") {
    return `<span class="variation-error" title="${escape(take.error)}">${escape(take.status.replace("_", " "))}</span>`;
  }
  const doing = VARIATION_STATUS[take.status] || take.status;
  return `<span class="muted small" title="${escape(take.label)}">${escape(take.label && take.status === "waiting" ? "waiting for a slot" : doing)}</span>`;
}

export function variationsHtml(node, canEdit) {
  const takes = node.variations || [];
  if (takes.length < 2) return "";
  const audio = takes.some((take) => take.media?.kind === "audio");
  return `<div class="variations${audio ? " audio" : ""}" data-variations aria-label="Takes of the last run">${takes
    .map(
      (take) => `<figure class="variation${take.selected ? " selected" : ""}" data-variation="${take.variation}">
        ${variationMedia(take.media)}
        <figcaption><span>${take.take_number ? `Take ${take.take_number}` : `Take ${take.variation} of ${takes.length}`}</span>${variationChoice(take, canEdit)}</figcaption>
      </figure>`,
    )
    .join("")}</div>`;
}

export function takesHtml(takes, canEdit) {
  if (!takes.length) return '<p class="muted small">No takes yet.</p>';
  return `<ul>${takes
    .map(
      (take) => `<li class="${take.selected ? "selected" : ""}">
        <span>Take ${take.number}</span><span class="muted small">${escape(take.provider || "you")} · ${new Date(take.created_at).toLocaleTimeString()}</span>
        ${take.selected ? '<span class="badge">in use</span>' : canEdit ? `<button type="button" data-action="use-take" data-take="${escape(take.id)}">Use this take</button>` : ""}
      </li>`,
    )
    .join("")}</ul>`;
}
