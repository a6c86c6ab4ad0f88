import { useState, type FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { useMutation } from '@tanstack/react-query';
import { newClient, useSession } from '../session';
import { Button, ErrorText, Field } from '../components/ui';
import { ForjaMark } from '../components/icons';
import { usePageTitle } from '../usePageTitle';

/** Only same-origin paths, so a crafted ?next= cannot send the user elsewhere after login. */
function safeNext(next: string | null): string {
  return next?.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function LoginPage() {
  const { token, signIn } = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');

  const login = useMutation({
    meta: { anonymous: true },
    mutationFn: () => newClient().login(username.trim(), password),
    onSuccess: (res) => {
      signIn(res.token);
      navigate(safeNext(params.get('next')), { replace: true });
    },
  });

  usePageTitle('Sign in');
  if (token && !login.isSuccess) return <Navigate to={safeNext(params.get('next'))} replace />;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    login.mutate();
  };

  return (
    <div className="login-page">
      <form className="login-card" onSubmit={submit} aria-label="Sign in" data-testid="login-form">
        <div className="login-brand">
          <ForjaMark size={32} />
          <div>
            <h1>Sign in to Forja</h1>
            <p className="muted">Use your Forja account.</p>
          </div>
        </div>
        <Field label="Username" htmlFor="login-username">
          <input
            id="login-username"
            name="username"
            autoComplete="username"
            autoFocus
            required
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </Field>
        <Field label="Password" htmlFor="login-password">
          <input
            id="login-password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </Field>
        <ErrorText error={login.error} testId="login-error" />
        <Button type="submit" variant="primary" className="btn-block" pending={login.isPending}>
          Sign in
        </Button>
      </form>
    </div>
  );
}
