import { Alert, Button, Stack, Text } from '@mantine/core';
import { Component, type ErrorInfo, type ReactNode } from 'react';

/**
 * A page that throws while rendering shows what went wrong instead of leaving a blank screen; moving to another
 * page (resetKey) tries again. (API errors never get here: queries show them in place.)
 */
export class ErrorBoundary extends Component<{ resetKey: string; children: ReactNode }, { error: Error | null; key: string }> {
  override state = { error: null as Error | null, key: this.props.resetKey };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  static getDerivedStateFromProps(props: { resetKey: string }, state: { error: Error | null; key: string }) {
    return props.resetKey !== state.key ? { error: null, key: props.resetKey } : null;
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error('console page failed', error, info.componentStack);
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <Alert color="red" title="This page failed / 页面出错" role="alert">
        <Stack gap="xs">
          <Text size="sm">{this.state.error.message}</Text>
          <Button size="xs" variant="light" color="red" w="fit-content" onClick={() => this.setState({ error: null })}>
            Retry / 重试
          </Button>
        </Stack>
      </Alert>
    );
  }
}
