// Base of every wrapper: a Site that passes each call to the Site it wraps, unchanged. Wrappers
// override only the calls they change, so an added Site method cannot be silently dropped by one
// of them. name and capabilities are always the inner site's: wrapping never changes what a site
// can do, only how it is reached.
import type {
  GetOptions,
  ObjectInfo,
  OpOptions,
  PutBody,
  PutOptions,
  PutResult,
  Retention,
  Site,
  SiteCapabilities,
} from '../site.ts';

export abstract class ForwardingSite implements Site {
  protected readonly inner: Site;

  constructor(inner: Site) {
    this.inner = inner;
  }

  get name(): string {
    return this.inner.name;
  }

  get capabilities(): SiteCapabilities {
    return this.inner.capabilities;
  }

  list(prefix: string, options?: OpOptions): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix, options);
  }

  head(key: string, options?: OpOptions): Promise<ObjectInfo> {
    return this.inner.head(key, options);
  }

  get(key: string, options?: GetOptions): Promise<Buffer> {
    return this.inner.get(key, options);
  }

  put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult> {
    return this.inner.put(key, body, options);
  }

  delete(key: string, options?: OpOptions): Promise<void> {
    return this.inner.delete(key, options);
  }

  extendRetention(key: string, retention: Retention, options?: OpOptions): Promise<Retention> {
    return this.inner.extendRetention(key, retention, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
