import { useState } from 'preact/hooks';
import { Unauthorized, api } from './api.js';

export function Login({
  onToken,
  error,
}: {
  onToken: (token: string) => void;
  error: string | null;
}) {
  const [value, setValue] = useState('');
  const [checking, setChecking] = useState(false);
  const [problem, setProblem] = useState<string | null>(error);
  const submit = async (e: Event) => {
    e.preventDefault();
    setChecking(true);
    try {
      await api(value.trim(), 'overview');
      onToken(value.trim());
    } catch (thrown) {
      setProblem(
        thrown instanceof Unauthorized
          ? 'Wrong token.'
          : thrown instanceof Error
            ? thrown.message
            : String(thrown),
      );
    } finally {
      setChecking(false);
    }
  };
  return (
    <section class="login">
      <h1>sms-relay console</h1>
      <form onSubmit={submit}>
        <label>
          Token
          <input
            type="password"
            name="token"
            autocomplete="current-password"
            value={value}
            onInput={(e) => setValue((e.target as HTMLInputElement).value)}
            required
          />
        </label>
        <button type="submit" disabled={checking}>
          Sign in
        </button>
        <p class="hint">
          The relay's <code>http.token</code>. Kept in this tab only (sessionStorage).
        </p>
        {problem && (
          <p class="error" role="alert">
            {problem}
          </p>
        )}
      </form>
    </section>
  );
}
