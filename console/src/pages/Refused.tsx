import { Alert, Button, Stack } from '@mantine/core';
import { Link } from 'react-router';
import { useT } from '../i18n';

/** What a user key sees on an admin page's URL: the page is refused, nothing of it is fetched. */
export function Refused() {
  const t = useT();
  return (
    <Stack maw={560}>
      <Alert color="orange" title={t('refused.title')} role="alert" data-testid="refused">
        {t('refused.body')}
      </Alert>
      <Button component={Link} to="/me" variant="light" w="fit-content">
        {t('nav.myKey')}
      </Button>
    </Stack>
  );
}

export function NotFound() {
  const t = useT();
  return (
    <Alert color="gray" title={t('notFound.title')}>
      <Button component={Link} to="/" variant="subtle" size="xs">
        {t('common.back')}
      </Button>
    </Alert>
  );
}
