// The plan of the whole graph, refreshed in the background after changes: costs and problems shown
// on the cards. It is read from GET .../plan, which answers an invalid graph and a run in the way as
// states (200): a dry run answers them with 422 and 409, which the browser logs as errors.

import { api } from "./api.js";

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
    let state;
    try {
      state = await api("GET", `/projects/${store.projectId}/plan`);
    } catch {
      return; // offline or refused: the cards keep what they showed
    }
    if (state.conflict) return; // a node runs with other settings: the last plan stays until it ends
    store.plan = new Map(state.nodes.map((n) => [n.node, n]));
    store.problems = new Map(Object.entries(state.problems));
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
