/**
 * The merchant dashboard, served by the site's own edge at /v1/admin/. Sign-in takes the site id
 * and its admin token (kept in sessionStorage for this tab, never in a URL); every view reads the
 * admin API with it, and a refused token comes back here with the edge's reason.
 */
// First: it must run before uPlot (imported by the views) reads the browser's language.
import './language-guard.ts';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Creative, Product, Template } from '../protocol/wire.ts';
import { AdminApi, saveSession, savedSession, SignedOut } from './admin-api.ts';
import type { ModelView, PrivacyView, RoundsView, Session, SiteSettingsView } from './admin-api.ts';
import { CatalogView } from './views/catalog-view.tsx';
import { CreativesView } from './views/creatives-view.tsx';
import { HoldoutView } from './views/holdout-view.tsx';
import { LiftView } from './views/lift-view.tsx';
import { ModelsView } from './views/models-view.tsx';
import { PrivacyPanel } from './views/privacy-view.tsx';
import { SettingsView } from './views/settings-view.tsx';
import './dashboard.css';

const VIEWS = ['creatives', 'models', 'privacy', 'catalog', 'settings'] as const;
type View = (typeof VIEWS)[number];

interface Data {
  settings: SiteSettingsView;
  rounds: RoundsView;
  ledger: PrivacyView;
  models: ModelView[];
  catalog: { products: Product[]; creatives: Creative[]; templates: Template[] };
}

function SignIn({ onSignedIn, message }: { onSignedIn: (s: Session) => void; message: string | null }) {
  const [site, setSite] = useState('');
  const [token, setToken] = useState('');
  return (
    <form
      class="signin"
      onSubmit={(e) => {
        e.preventDefault();
        onSignedIn({ site: site.trim(), token: token.trim() });
      }}
    >
      <h1>Vitrine</h1>
      <p>Sign in with your site's admin token. It stays in this tab only.</p>
      {message && (
        <p class="problem" role="alert">
          {message}
        </p>
      )}
      <label>
        Site id <input name="site" required value={site} onInput={(e) => setSite((e.target as HTMLInputElement).value)} autocomplete="username" />
      </label>
      <label>
        Admin token{' '}
        <input
          name="token"
          type="password"
          required
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          autocomplete="current-password"
        />
      </label>
      <button type="submit">Sign in</button>
    </form>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>(savedSession());
  const [message, setMessage] = useState<string | null>(null);
  const [view, setView] = useState<View>('creatives');
  const [data, setData] = useState<Data | null>(null);
  const [version, setVersion] = useState(0);
  /** What the last action did (promote, roll back, save): kept across the reload it triggers. */
  const [notice, setNotice] = useState<string | null>(null);
  const api = session ? new AdminApi(session) : null;
  useEffect(() => {
    if (!api) return;
    let stale = false;
    if (version === 0) setData(null); // a new session; a refresh after an action keeps showing the old data meanwhile
    Promise.all([api.settings(), api.rounds(), api.privacy(), api.models(), api.catalog()])
      .then(([settings, rounds, ledger, models, catalog]) => !stale && setData({ settings, rounds, ledger, models: models.models, catalog }))
      .catch((e: unknown) => {
        if (stale) return;
        if (e instanceof SignedOut) {
          saveSession(null);
          setSession(null);
          setMessage(`Signed out: ${e.message}`);
        } else setMessage(e instanceof Error ? e.message : String(e));
      });
    return () => {
      stale = true;
    };
  }, [session?.site, session?.token, version]);
  if (!session || !api) {
    return (
      <SignIn
        message={message}
        onSignedIn={(s) => {
          saveSession(s);
          setMessage(null);
          setSession(s);
        }}
      />
    );
  }
  const refresh = (what: string) => {
    setNotice(what);
    setVersion((n) => n + 1);
  };
  return (
    <div class="shell">
      <header>
        <h1>Vitrine · {session.site}</h1>
        <nav>
          {VIEWS.map((v) => (
            <button
              type="button"
              key={v}
              aria-current={v === view ? 'page' : undefined}
              onClick={() => {
                setView(v);
                setNotice(null);
              }}
              data-view={v}
            >
              {v[0]!.toUpperCase() + v.slice(1)}
            </button>
          ))}
        </nav>
        <button
          type="button"
          class="signout"
          onClick={() => {
            saveSession(null);
            setSession(null);
            setVersion(0);
          }}
        >
          Sign out
        </button>
      </header>
      <main data-current-view={view}>
        {message && <p class="problem">{message}</p>}
        {notice && (
          <p class="message" role="status">
            {notice}
          </p>
        )}
        {!data ? (
          <p aria-busy="true">Loading…</p>
        ) : view === 'creatives' ? (
          <>
            <HoldoutView rounds={data.rounds} settings={data.settings} />
            <LiftView rounds={data.rounds} />
            <CreativesView rounds={data.rounds} currency={data.settings.currency} />
          </>
        ) : view === 'models' ? (
          <ModelsView api={api} models={data.models} rounds={data.rounds} currency={data.settings.currency} onChanged={refresh} />
        ) : view === 'privacy' ? (
          <PrivacyPanel ledger={data.ledger} rounds={data.rounds} settings={data.settings} />
        ) : view === 'settings' ? (
          <SettingsView key={version} api={api} settings={data.settings} onSaved={refresh} />
        ) : (
          <CatalogView api={api} {...data.catalog} storefront={data.settings.allowedOrigins[0] ?? null} currency={data.settings.currency} onSaved={refresh} />
        )}
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
