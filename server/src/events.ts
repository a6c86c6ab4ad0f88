/** Something that happened in a domain that other domains may react to (webhooks, later monitoring). */
export interface DomainEvent {
  type: string;
  groupId: string;
  groupName: string;
  actor: string;
  at: number;
  data: Record<string, unknown>;
}

export type EventListener = (event: DomainEvent) => Promise<void>;

/**
 * In-process fan-out of domain events, so the registry does not know who listens. A listener's
 * failure is reported, never thrown back at the request that caused the event.
 */
export class EventBus {
  private readonly listeners: EventListener[] = [];

  constructor(private readonly onError: (err: Error, event: DomainEvent) => void) {}

  subscribe(listener: EventListener): void {
    this.listeners.push(listener);
  }

  async publish(event: DomainEvent): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(event);
      } catch (err) {
        this.onError(err as Error, event);
      }
    }
  }
}
