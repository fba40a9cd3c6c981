// The canvas's surroundings: toasts, who is here, the run plan dialog, the add-node search.

import { escape } from "./cards.js";

export function makeToaster(container) {
  return function toast(message, tone = "info") {
    const item = document.createElement("div");
    item.className = `toast ${tone}`;
    item.setAttribute("role", tone === "error" ? "alert" : "status");
    item.textContent = message;
    container.append(item);
    setTimeout(() => item.remove(), tone === "info" ? 3000 : 8000);
  };
}

export function renderPresence(element, users, me) {
  element.innerHTML = users
    .map(
      (user) =>
        `<span class="avatar${user.username === me ? " me" : ""}" title="${escape(user.username)}${user.username === me ? " (you)" : ""}" data-user="${escape(user.username)}">${escape(user.username.slice(0, 2).toUpperCase())}</span>`,
    )
    .join("");
}

function money(value) {
  return `$${Number(value || 0).toFixed(2)}`;
}

// Show a plan and resolve to true when the user confirms it.
export function confirmPlan(dialog, plan, store) {
  const rows = plan.nodes
    .map((planned) => {
      const node = store.nodes.get(planned.node);
      return `<tr data-plan-row="${escape(planned.node)}" class="${escape(planned.action)}">
        <td>${escape(node?.title || node?.type || planned.node)}</td>
        <td><span class="badge ${planned.action === "cached" ? "" : "status-queued"}">${escape(planned.action)}</span></td>
        <td class="muted">${escape(planned.reason)}</td>
        <td>${planned.action === "run" ? money(planned.cost) : "—"}</td></tr>`;
    })
    .join("");
  const running = plan.nodes.filter((n) => n.action === "run").length;
  dialog.innerHTML = `
    <form method="dialog">
      <h2>Run ${running} node${running === 1 ? "" : "s"}?</h2>
      <p class="muted">${plan.nodes.length - running} cached or already running: they will not run again.</p>
      <table class="plan-table"><thead><tr><th>Node</th><th></th><th>Why</th><th>Estimate</th></tr></thead><tbody>${rows}</tbody></table>
      <p class="total">Estimated cost: <strong data-plan-total>${money(plan.cost_estimate)}</strong></p>
      <menu><button value="cancel" type="submit">Not now</button><button class="primary" value="run" type="submit" data-confirm-run ${running ? "" : "disabled"}>Run</button></menu>
    </form>`;
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "run"), { once: true });
  });
}

export function showProblems(dialog, error, store) {
  const rows = Object.entries(error.details.nodes || {})
    .map(([id, problems]) => {
      const node = store.nodes.get(id);
      return `<li><strong>${escape(node?.title || node?.type || id)}</strong><ul>${problems.map((p) => `<li>${escape(p.message)}</li>`).join("")}</ul></li>`;
    })
    .join("");
  dialog.innerHTML = `<form method="dialog"><h2>This cannot run yet</h2><ul class="problem-list">${rows}</ul><menu><button class="primary" type="submit">OK</button></menu></form>`;
  dialog.showModal();
}

export class Search {
  constructor(element, store, onPick) {
    this.element = element;
    this.input = element.querySelector("input");
    this.list = element.querySelector("ul");
    this.store = store;
    this.onPick = onPick;
    this.input.addEventListener("input", () => this.filter());
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        const first = this.list.querySelector("[data-type]");
        if (first) this.pick(first.dataset.type);
      } else if (event.key === "Escape") {
        this.close();
      }
    });
    this.list.addEventListener("click", (event) => {
      const item = event.target.closest("[data-type]");
      if (item) this.pick(item.dataset.type);
    });
  }

  open(left, top, at) {
    this.at = at;
    Object.assign(this.element.style, { left: `${left}px`, top: `${top}px` });
    this.element.hidden = false;
    this.input.value = "";
    this.filter();
    this.input.focus();
  }

  filter() {
    const query = this.input.value.trim().toLowerCase();
    // Best matches first: the name itself, then names that start with it, then descriptions.
    const rank = (type) => {
      const label = type.label.toLowerCase();
      if (!query || type.name === query || label === query) return 0;
      if (type.name.startsWith(query) || label.startsWith(query)) return 1;
      if (type.name.includes(query) || label.includes(query)) return 2;
      return type.description.toLowerCase().includes(query) ? 3 : 9;
    };
    const types = [...this.store.types.values()]
      .map((type, index) => ({ type, rank: rank(type), index }))
      .filter((entry) => entry.rank < 9)
      .sort((a, b) => a.rank - b.rank || a.index - b.index)
      .map((entry) => entry.type);
    this.list.innerHTML = types.map((type) => `<li data-type="${escape(type.name)}"><strong>${escape(type.label)}</strong> <span class="muted">${escape(type.description)}</span></li>`).join("");
  }

  pick(type) {
    this.close();
    this.onPick(type, this.at);
  }

  close() {
    this.element.hidden = true;
  }
}
