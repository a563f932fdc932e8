/**
 * What the running daemon knows about itself, for `sealog status`, the systemd
 * STATUS line and the watchdog. Components report conditions and sections here;
 * none of them knows who asks.
 */
export type HealthLevel = 'ok' | 'degraded' | 'unhealthy';

export interface Condition {
  component: string;
  level: Exclude<HealthLevel, 'ok'>;
  reason: string;
  since: string;
}

const rank: Record<HealthLevel, number> = { ok: 0, degraded: 1, unhealthy: 2 };

export class Status {
  private readonly conditions = new Map<string, Condition>();
  private readonly sections = new Map<string, () => unknown>();

  /** Sets or (with 'ok') clears the condition a component reports. */
  setHealth(component: string, level: HealthLevel, reason = ''): void {
    if (level === 'ok') {
      this.conditions.delete(component);
      return;
    }
    const now = this.conditions.get(component);
    if (now && now.level === level && now.reason === reason) return;
    this.conditions.set(component, { component, level, reason, since: new Date().toISOString() });
  }

  /** The worst condition decides; every condition is listed with its reason. */
  health(): { level: HealthLevel; conditions: Condition[] } {
    const conditions = [...this.conditions.values()];
    const level = conditions.reduce<HealthLevel>((worst, c) => (rank[c.level] > rank[worst] ? c.level : worst), 'ok');
    return { level, conditions };
  }

  /** A named part of the status report, computed when asked. */
  section(name: string, read: () => unknown): void {
    this.sections.set(name, read);
  }

  /** One section, computed alone (undefined when no component registered it). */
  read(name: string): unknown {
    return this.sections.get(name)?.();
  }

  report(): Record<string, unknown> {
    const out: Record<string, unknown> = { health: this.health() };
    for (const [name, read] of this.sections) out[name] = read();
    return out;
  }
}
