// Running: the plan confirmed first (with its cost), starting, canceling, and what runs tell the user.

import { api, ApiError } from "./api.js";
import { confirmPlan, showProblems } from "./panels.js";

export function installRuns({ store, dialog, buttons, toast }) {
  // `force` makes a new take of exactly the targets (a re-roll), even when they are cached.
  async function run(targets, { confirm = true, force = false } = {}) {
    try {
      if (confirm) {
        const plan = await api("POST", `/projects/${store.projectId}/runs`, { targets, dry_run: true, force });
        if (!(await confirmPlan(dialog, plan, store))) return null;
      }
      const started = await api("POST", `/projects/${store.projectId}/runs`, { targets, force });
      if (started.run) {
        store.putRun(started.run);
        const count = started.nodes.filter((n) => n.action === "run").length;
        toast(count ? `Running ${count} node${count === 1 ? "" : "s"}.` : "Everything is cached: nothing to run.");
      }
      return started;
    } catch (error) {
      if (error instanceof ApiError && error.code === "graph_invalid") showProblems(dialog, error, store);
      else toast(error.message, "error");
      return null;
    }
  }

  async function cancelAll() {
    for (const running of store.running) {
      await api("POST", `/runs/${running.id}/cancel`).catch((error) => toast(error.message, "error"));
    }
  }

  store.on((change) => {
    if ((change.kind === "runs" || change.kind === "graph") && buttons.cancel) buttons.cancel.disabled = !store.running.length;
  });
  store.register("run.finished", (event) => toast(`Run ${event.run.status}.`, event.run.status === "succeeded" ? "info" : "warning"));
  store.register("job.error", (event) => {
    if (event.retrying) toast(`${store.nodes.get(event.node_id)?.title || "A node"}: ${event.message} Trying again…`, "warning");
  });
  return { run, cancelAll };
}
