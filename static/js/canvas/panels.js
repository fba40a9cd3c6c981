// The canvas's surroundings: toasts, who is here, the run plan dialog.

import { earlierTake, escape } from "./cards.js";

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
        <td>${escape(store.nameOf(node, planned.node))}</td>
        <td><span class="badge ${planned.action === "cached" ? "" : "status-queued"}">${escape(planned.action)}</span></td>
        <td class="muted">${escape(planned.reason)}</td>
        <td>${planned.action === "run" ? `${money(planned.cost)}${planned.variations > 1 ? ` <span class="muted small" data-plan-takes>(${planned.variations} takes)</span>` : ""}` : "—"}</td></tr>`;
    })
    .join("");
  const running = plan.nodes.filter((n) => n.action === "run").length;
  // Nodes going back to an earlier take (after an undo): confirming uses it again and pays nothing.
  const switching = plan.nodes.filter((n) => store.nodes.get(n.node) && earlierTake(store.nodes.get(n.node), n)).length;
  const heading =
    running || !switching
      ? `Run ${running} node${running === 1 ? "" : "s"}?`
      : `Use ${switching} earlier take${switching === 1 ? "" : "s"} again?`;
  const note = running || !switching
    ? `${plan.nodes.length - running} cached or already running: they will not run again.`
    : "Nothing runs and nothing is paid: the cached takes are used again.";
  dialog.innerHTML = `
    <form method="dialog">
      <h2>${escape(heading)}</h2>
      <p class="muted">${escape(note)}</p>
      <table class="plan-table"><thead><tr><th>Node</th><th></th><th>Why</th><th>Estimate</th></tr></thead><tbody>${rows}</tbody></table>
      <p class="total">Estimated cost: <strong data-plan-total>${money(plan.cost_estimate)}</strong></p>
      <menu><button value="cancel" type="submit">Not now</button><button class="primary" value="run" type="submit" data-confirm-run ${running || switching ? "" : "disabled"}>${running || !switching ? "Run" : "Use them"}</button></menu>
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
      return `<li><strong>${escape(store.nameOf(node, id))}</strong><ul>${problems.map((p) => `<li>${escape(p.message)}</li>`).join("")}</ul></li>`;
    })
    .join("");
  dialog.innerHTML = `<form method="dialog"><h2>This cannot run yet</h2><ul class="problem-list">${rows}</ul><menu><button class="primary" type="submit">OK</button></menu></form>`;
  dialog.showModal();
}
