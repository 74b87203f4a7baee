import { Alert, Button, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { type FormEvent, useState } from 'react';
import { useAuth } from '../auth/session';
import { ErrorAlert } from '../components/ui';
import { useT } from '../i18n';

export function SignInPage() {
  const t = useT();
  const { signIn, signedOutReason, restoreError, retryRestore } = useAuth();
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!key.trim()) {
      setError(new Error(t('signin.required')));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await signIn(key);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Paper withBorder p="lg" component="main" id="main">
      <form onSubmit={(e) => void submit(e)} aria-labelledby="signin-title">
        <Stack>
          <Title order={1} size="h3" id="signin-title">
            {t('signin.title')}
          </Title>
          <Text size="sm" c="dimmed">
            {t('signin.intro')}
          </Text>
          {signedOutReason && (
            <Alert color="orange" title={t('signin.expired')} role="alert">
              {signedOutReason}
            </Alert>
          )}
          {restoreError !== null && (
            <>
              <Text size="sm" data-testid="restore-error">
                {t('signin.unchecked')}
              </Text>
              <ErrorAlert error={restoreError} onRetry={retryRestore} />
            </>
          )}
          <PasswordInput
            label={t('signin.key')}
            value={key}
            onChange={(e) => setKey(e.currentTarget.value)}
            autoComplete="off"
            autoFocus
            required
          />
          {error !== null && <ErrorAlert error={error} />}
          <Button type="submit" loading={busy}>
            {t('signin.submit')}
          </Button>
        </Stack>
      </form>
    </Paper>
  );
}
