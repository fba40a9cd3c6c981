// The plan of the whole graph, refreshed in the background after changes: costs and problems shown
// on the cards. An invalid graph (422 graph_invalid) and a run in the way (409) are states of the
// graph, shown on the cards, not failures.

import { api, ApiError } from "./api.js";

const DELAY = 900; // ms after the last change: typing or dragging asks for one plan, not dozens

export function installPlan({ store, view }) {
  let timer = 0;

  function schedule() {
    if (!store.canEdit) return;
    clearTimeout(timer);
    timer = setTimeout(refresh, DELAY);
  }

  const entry = (id) => JSON.stringify([store.plan.get(id), store.problems.get(id)]);

  async function refresh() {
    if (!store.nodes.size) return;
    const before = new Map([...store.plan.keys(), ...store.problems.keys()].map((id) => [id, entry(id)]));
    try {
      const plan = await api("POST", `/projects/${store.projectId}/runs`, { targets: [], dry_run: true });
      store.problems.clear();
      store.plan = new Map(plan.nodes.map((n) => [n.node, n]));
    } catch (error) {
      // 409: a node runs with other settings, so the last plan stays until the run ends; offline
      // or refused: the cards keep what they showed.
      if (!(error instanceof ApiError) || error.code !== "graph_invalid") return;
      store.plan.clear();
      store.problems = new Map(Object.entries(error.details.nodes || {}));
    }
    // Only the cards whose plan line or problems changed are drawn again.
    const ids = new Set([...before.keys(), ...store.plan.keys(), ...store.problems.keys()]);
    view.updateNodes([...ids].filter((id) => store.nodes.has(id) && before.get(id) !== entry(id)));
    store.emit({ kind: "plan" });
  }

  store.on((change) => {
    if (!["selection", "progress", "runs", "plan"].includes(change.kind)) schedule();
  });
  store.register("run.finished", schedule);
  return { schedule, refresh };
}
