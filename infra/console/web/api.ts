/** The console server's API, from the page: one origin, JSON in and out. */
export interface Answer<T> {
  status: number;
  body: T;
}

export async function getJson<T>(path: string): Promise<Answer<T>> {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  return { status: response.status, body: (await response.json()) as T };
}

export async function postJson<T>(path: string, body: unknown): Promise<Answer<T>> {
  const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as T };
}

/** A problem+json's one line, or the status. */
export function problemText(answer: Answer<unknown>): string {
  const problem = answer.body as { code?: string; detail?: string } | null;
  return problem?.code !== undefined ? `${problem.code}: ${problem.detail ?? ''}` : `HTTP ${answer.status}`;
}
