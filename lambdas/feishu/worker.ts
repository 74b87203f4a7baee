// Placeholder entry point; the real handler lands with its issue.
export const handler = async (): Promise<{ statusCode: number; body: string }> => ({ statusCode: 501, body: 'not implemented' });
