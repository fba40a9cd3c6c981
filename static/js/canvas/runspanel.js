// The runs panel: the project's recent runs (who, status, cost, duration), each expandable to
// its jobs, with cancel. It is where outcomes stay visible after the toasts fade; it refreshes
// itself on the run and node-status events.

import { escape } from "./cards.js";

const REFRESH_DELAY = 400; // ms: a burst of node.status events makes one request

export class RunsPanel {
  constructor({ root, store, api, toast }) {
    this.store = store;
    this.api = api;
    this.toast = toast;
    this.pages = 1;
    this.expanded = new Set();
    this.toggleButton = this.makeButton(root);
    this.element = document.createElement("aside");
    this.element.className = "runs-panel";
    this.element.dataset.runsPanel = "";
    this.element.setAttribute("aria-label", "Runs");
    this.element.hidden = true;
    this.element.innerHTML = `<header><h2>Runs</h2><button type="button" class="quiet" data-runs-close aria-label="Close">✕</button></header>
      <ol class="runs-list" data-runs-list></ol><p class="muted small" data-runs-empty hidden>No runs yet: press Run on a card, or Run all.</p>
      <button type="button" class="quiet" data-runs-more hidden>Older runs</button>`;
    root.querySelector("[data-viewport]").append(this.element);
    this.bind();
    for (const type of ["run.planned", "run.finished", "node.status"]) store.register(type, () => this.schedule());
    store.register("run.finished", () => this.element.hidden && (this.toggleButton.dataset.unseen = "true"));
  }

  makeButton(root) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.runsToggle = "";
    button.setAttribute("aria-expanded", "false");
    button.title = "Recent runs: status, cost, duration and jobs";
    button.textContent = "Runs";
    root.querySelector(".toolbar")?.prepend(button);
    return button;
  }

  bind() {
    this.toggleButton.addEventListener("click", () => this.toggle());
    // Nothing in the panel starts a canvas gesture.
    for (const type of ["pointerdown", "dblclick", "contextmenu", "wheel"]) this.element.addEventListener(type, (event) => event.stopPropagation());
    this.element.addEventListener("click", (event) => {
      if (event.target.closest("[data-runs-close]")) return this.toggle(false);
      if (event.target.closest("[data-runs-more]")) return this.pages++, this.refresh();
      const cancel = event.target.closest("[data-run-cancel]");
      if (cancel) return this.cancel(cancel.dataset.runCancel);
      const keep = event.target.closest("[data-job-keep]");
      if (keep) return this.keep(keep);
      const row = event.target.closest("[data-run-toggle]");
      if (row) this.expand(row.closest("[data-run]"));
    });
  }

  toggle(open = this.element.hidden) {
    this.element.hidden = !open;
    this.toggleButton.setAttribute("aria-expanded", String(open));
    delete this.toggleButton.dataset.unseen;
    if (open) this.refresh();
  }

  schedule() {
    if (this.element.hidden) return; // loaded when opened
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), REFRESH_DELAY);
  }

  async refresh() {
    try {
      const runs = [];
      let count = 0;
      for (let page = 1; page <= this.pages; page++) {
        const answer = await this.api("GET", `/projects/${this.store.projectId}/runs?page=${page}`);
        runs.push(...answer.items);
        count = answer.count;
      }
      this.render(runs, count);
    } catch (error) {
      this.element.querySelector("[data-runs-list]").innerHTML = `<li class="error">${escape(error.message)}</li>`;
    }
  }

  render(runs, count) {
    this.element.querySelector("[data-runs-list]").innerHTML = runs.map((run) => this.runHtml(run)).join("");
    this.element.querySelector("[data-runs-empty]").hidden = runs.length > 0;
    this.element.querySelector("[data-runs-more]").hidden = runs.length >= count;
  }

  runHtml(run) {
    const open = this.expanded.has(run.id);
    const when = new Date(run.created_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    const running = run.status === "running";
    const cost = running ? `${dollars(run.cost_actual)} / est. ${dollars(run.cost_estimate)}` : dollars(run.cost_actual);
    // While it runs, how long it has been running so far.
    const seconds = run.duration_seconds ?? (Date.now() - new Date(run.created_at)) / 1000;
    const cancel = running && this.store.canEdit ? `<button type="button" class="quiet" data-run-cancel="${escape(run.id)}">Cancel</button>` : "";
    return `<li class="run" data-run="${escape(run.id)}" data-status="${escape(run.status)}">
      <div class="run-line"><button type="button" class="run-toggle" data-run-toggle aria-expanded="${open}">
        <span class="badge status-${escape(run.status)}" data-run-status>${escape(run.status)}</span>
        <span class="run-when">${escape(when)}${run.created_by ? ` · ${escape(run.created_by)}` : ""}</span>
        <span class="run-cost" data-run-cost>${escape(cost)}</span>
        <span class="run-duration" data-run-duration>${escape(duration(seconds))}</span>
      </button>${cancel}</div>
      <ul class="run-jobs" data-run-jobs ${open ? "" : "hidden"}>${(run.jobs || []).map((job) => this.jobHtml(job)).join("") || '<li class="muted">Nothing ran: every node was cached.</li>'}</ul>
    </li>`;
  }

  jobHtml(job) {
    const title = job.node_title || this.store.nodes.get(job.node)?.title || "A deleted node";
    const progress = job.status === "running" ? ` ${Math.round((job.progress || 0) * 100)}%` : "";
    return `<li class="run-job" data-run-job="${escape(job.id)}">
      <span class="job-title">${escape(title)}</span><span class="badge status-${escape(job.status)}">${escape(job.status)}${progress}</span>
      <span class="job-cost">${escape(dollars(job.cost_actual ?? job.cost_estimate))}</span>
      ${job.error_message ? `<p class="job-error">${escape(job.error_message)}</p>` : ""}${this.keepButton(job)}</li>`;
  }

  // A job canceled after its submit was paid for: its video can still be collected.
  keepButton(job) {
    if (!job.keepable || !this.store.canEdit) return "";
    return `<p class="job-keep">Canceled after the provider started it: already paid for. <button type="button" class="quiet" data-job-keep="${escape(job.id)}">Keep it</button></p>`;
  }

  expand(item) {
    const jobs = item.querySelector("[data-run-jobs]");
    jobs.hidden = !jobs.hidden;
    item.querySelector("[data-run-toggle]").setAttribute("aria-expanded", String(!jobs.hidden));
    if (jobs.hidden) this.expanded.delete(item.dataset.run);
    else this.expanded.add(item.dataset.run);
  }

  async cancel(id) {
    await this.act(() => this.api("POST", `/runs/${id}/cancel`));
  }

  async keep(button) {
    button.disabled = true;
    await this.act(() => this.api("POST", `/jobs/${button.dataset.jobKeep}/keep`));
    button.disabled = false; // refused: it stays offered, with the reason in a toast (kept: the list is redrawn)
  }

  async act(request) {
    try {
      await request();
      await this.refresh();
    } catch (error) {
      this.toast(error.message, "error");
    }
  }
}

function dollars(value) {
  return `$${Number(value || 0).toFixed(2)}`;
}

function duration(seconds) {
  const whole = Math.round(seconds);
  return whole < 60 ? `${whole} s` : `${Math.floor(whole / 60)} min ${whole % 60} s`;
}
