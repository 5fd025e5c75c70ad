import type { JobEngineApi } from '../../cli/src/api/client.ts';
import type { OperatorNote } from '../../cli/src/api/types.ts';
import { errorBlock } from './dom.ts';
import type { Session } from './session.ts';

/** What every page gets: the client for the current tenant, its outlet, and the operator note fields. */
export interface PageContext {
  api: JobEngineApi;
  session: Session;
  root: HTMLElement;
  params: Record<string, string>;
  /** The reason and ticket typed in the header, sent with every change. */
  note(): OperatorNote;
  /** Re-renders the current page. */
  refresh(): void;
}

/** A page renders into ctx.root and may return what stops its timers and sockets when it is left. */
export type Page = (ctx: PageContext) => (() => void) | undefined;

/** Runs an operator action from a button: disabled meanwhile, the error shown next to it. */
export async function perform(button: HTMLButtonElement, action: () => Promise<unknown>, done: () => void) {
  const holder = button.parentElement ?? document.body;
  for (const old of holder.querySelectorAll(':scope > .error, :scope > .notice')) old.remove();
  button.disabled = true;
  try {
    await action();
    done();
  } catch (error) {
    holder.append(errorBlock(error));
  } finally {
    button.disabled = false;
  }
}

/** Calls `tick` now and every `ms` until stopped. */
export function every(ms: number, tick: () => Promise<void> | void): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const loop = async () => {
    if (stopped) return;
    await tick();
    if (!stopped) timer = setTimeout(loop, ms);
  };
  void loop();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** Coalesces bursts of calls (a live stream delivering a run's events) into one call per `ms`. */
export function debounce(ms: number, fn: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      fn();
    }, ms);
  };
}
