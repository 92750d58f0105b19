import type { RegistryStore, GlobalSetting } from './registry-store.js';

/**
 * A setting a registry keeps globally and per subject, a subject's own value overriding the global one:
 * the compatibility level and the mode work alike (Confluent's /config and /mode), so they are one piece of
 * code over two keys.
 */
export class ScopedSetting<T extends string> {
  constructor(
    private readonly store: RegistryStore,
    private readonly key: GlobalSetting,
    /** The global value when none was set. */
    private readonly fallback: () => T,
    /** The error for a subject that has no value of its own, asked without `defaultToGlobal`. */
    private readonly notConfigured: (subject: string) => Error,
    /** The error for deleting a subject's value when it has none. */
    private readonly notFound: (subject: string) => Error,
  ) {}

  global(): T {
    return (this.store.globalSetting(this.key) as T | undefined) ?? this.fallback();
  }

  setGlobal(value: T): void {
    this.store.setGlobalSetting(this.key, value);
  }

  /** Back to the default; returns the value it replaced. */
  resetGlobal(): T {
    const previous = this.global();
    this.store.deleteGlobalSetting(this.key);
    return previous;
  }

  /** The subject's own value; without one, the global value when `defaultToGlobal`, else `notConfigured`. */
  ofSubject(subject: string, defaultToGlobal: boolean): T {
    const own = this.own(subject);
    if (own) return own;
    if (defaultToGlobal) return this.global();
    throw this.notConfigured(subject);
  }

  setForSubject(subject: string, value: T): void {
    this.store.setSubjectSetting(this.key, subject, value);
  }

  /** Removes the subject's own value (`notFound` when it has none); returns it. */
  deleteForSubject(subject: string): T {
    const own = this.own(subject);
    if (!own) throw this.notFound(subject);
    this.store.deleteSubjectSetting(this.key, subject);
    return own;
  }

  /** What applies to `subject`: its own value, else the global one. */
  inScope(subject: string): T {
    return this.own(subject) ?? this.global();
  }

  private own(subject: string): T | undefined {
    return this.store.subjectSetting(this.key, subject) as T | undefined;
  }
}
