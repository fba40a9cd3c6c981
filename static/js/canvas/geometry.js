// Boxes in world coordinates ({x, y, width, height}), for the widgets that place and show cards.

// The part of the world that the viewport shows.
export function visibleWorld(view) {
  const rect = view.viewport.getBoundingClientRect();
  const a = view.toWorld(rect.left, rect.top);
  const b = view.toWorld(rect.right, rect.bottom);
  return { x: a.x, y: a.y, width: b.x - a.x, height: b.y - a.y };
}

export function union(boxes, margin = 0) {
  const x = Math.min(...boxes.map((b) => b.x)) - margin;
  const y = Math.min(...boxes.map((b) => b.y)) - margin;
  const right = Math.max(...boxes.map((b) => b.x + b.width)) + margin;
  const bottom = Math.max(...boxes.map((b) => b.y + b.height)) + margin;
  return { x, y, width: right - x, height: bottom - y };
}

export const moved = (box, offset) => ({ ...box, x: box.x + offset.x, y: box.y + offset.y });
export const overlaps = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
export const inside = (a, b) => a.x >= b.x && a.y >= b.y && a.x + a.width <= b.x + b.width && a.y + a.height <= b.y + b.height;
