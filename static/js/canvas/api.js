// The JSON API, as the canvas uses it: the session cookie plus the CSRF token on writes.
// Every error arrives in one shape, {"error": {code, message, details}}, thrown as ApiError.

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `The server answered ${status}.`);
    this.status = status;
    this.code = error?.code || "error";
    this.details = error?.details || {};
  }
}

export function csrfToken() {
  const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, init);
  } catch (error) {
    throw new ApiError(0, { code: "offline", message: "The server cannot be reached; your change was not saved." });
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data?.error);
  return data;
}

// Uploads go through XMLHttpRequest: fetch cannot report upload progress.
export function upload(path, file, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", `/api/v1${path}`);
    request.setRequestHeader("X-CSRFToken", csrfToken());
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress?.(event.loaded / event.total);
    });
    request.addEventListener("load", () => {
      const data = JSON.parse(request.responseText || "null");
      if (request.status >= 200 && request.status < 300) resolve(data);
      else reject(new ApiError(request.status, data?.error));
    });
    request.addEventListener("error", () => reject(new ApiError(0, { message: "The upload was interrupted." })));
    const form = new FormData();
    form.append("file", file);
    request.send(form);
  });
}
