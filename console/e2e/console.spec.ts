import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, type Locator, type Page, test } from '@playwright/test';

/**
 * The console as an admin and then a user meet it, against a real local gateway (gateway.ts): one story, in
 * order. Every page visited is saved as a screenshot under console/test-results/screenshots/.
 */
const URL_BASE = () => process.env.CONSOLE_E2E_URL!;
const ADMIN_KEY = () => process.env.CONSOLE_E2E_ADMIN_KEY!;
const SHOTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-results', 'screenshots');
mkdirSync(SHOTS, { recursive: true });

const MODEL = 'claude-e2e';
const GROUP = 'team-e2e';
const USER = 'alice-e2e';

const state: { userKey?: string } = {};

test.describe.configure({ mode: 'serial' });

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(`${URL_BASE()}/console/`);
  await page.getByLabel('API key').fill(key);
  // Keyboard: Enter submits the sign-in form.
  await page.getByLabel('API key').press('Enter');
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}

async function nav(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name, exact: true }).click();
}

async function pick(scope: Locator, label: string, option: string): Promise<void> {
  await scope.getByRole('textbox', { name: label }).click();
  await scope.page().getByRole('option', { name: option, exact: true }).click();
}

function dialog(page: Page): Locator {
  return page.getByRole('dialog');
}

test.beforeEach(({ page }) => {
  // An uncaught exception in the console is a failure, whatever the page then shows.
  page.on('pageerror', (e) => {
    throw e;
  });
});

test('an admin signs in and sees the dashboard', async ({ page }) => {
  await page.goto(`${URL_BASE()}/console/`);
  await shot(page, '01-sign-in');
  await page.getByLabel('API key').fill('br-not-a-key-00000000000000000000000000');
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The backend's own message, not a blank page.
  await expect(page.getByTestId('error-message')).toContainText(/key/i);
  await signIn(page, ADMIN_KEY());
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(page.getByTestId('total-spend')).toHaveText('$0.00');
  await expect(page.getByTestId('signed-in-as')).toContainText('(admin)');
  await shot(page, '02-dashboard');
});

test('the admin creates a group, a model and a user key (shown once, copyable), edits it, binds a model, disables it and recharges it', async ({
  page,
}) => {
  await signIn(page, ADMIN_KEY());

  await nav(page, 'Groups');
  await page.getByRole('button', { name: 'New group' }).click();
  await dialog(page).getByLabel('Name').fill(GROUP);
  await dialog(page).getByLabel('Requests per minute').fill('600');
  await dialog(page).getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('cell', { name: GROUP, exact: true })).toBeVisible();
  await shot(page, '03-groups');

  await nav(page, 'Models');
  await page.getByRole('button', { name: 'New model' }).click();
  const form = dialog(page);
  await form.getByLabel('Name').fill(MODEL);
  await expect(form.getByRole('textbox', { name: 'Provider' })).toHaveValue('bedrock-converse');
  await pick(form, 'Group', GROUP);
  await form.getByLabel('Model id').fill('us.anthropic.claude-3-5-haiku-20241022-v1:0');
  // No price is not a free model: the form asks for prices unless "Free model" is ticked.
  await expect(form.getByLabel('Free model (calls are not charged)')).not.toBeChecked();
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form.getByText(/Required \(greater than 0\)/)).toHaveCount(2);
  await form.getByLabel('Input price').fill('0.8');
  await form.getByLabel('Output price').fill('4');
  // The raw JSON editor shows what the form built, and refuses what is not a JSON object.
  await form.getByRole('tab', { name: 'Raw JSON' }).click();
  const json = form.getByRole('textbox', { name: 'Raw JSON' });
  await expect(json).toHaveValue(/"modelId": "us\.anthropic\.claude-3-5-haiku-20241022-v1:0"/);
  await json.fill('{"modelId": ');
  await expect(form.getByText(/Not valid JSON/)).toBeVisible();
  await json.fill('{"modelId": "us.anthropic.claude-3-5-haiku-20241022-v1:0"}');
  await expect(form.getByText(/Not valid JSON/)).toHaveCount(0);
  await shot(page, '04-model-form');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('cell', { name: MODEL, exact: true })).toBeVisible();
  await shot(page, '05-models');

  // A second model of the same name: the API's 409 message is shown in the form.
  await page.getByRole('button', { name: 'New model' }).click();
  await dialog(page).getByLabel('Name').fill(MODEL);
  await dialog(page).getByLabel('Model id').fill('amazon.nova-lite-v1:0');
  await dialog(page).getByLabel('Free model (calls are not charged)').check();
  await dialog(page).getByRole('button', { name: 'Create' }).click();
  await expect(dialog(page).getByTestId('error-message')).toBeVisible();
  await dialog(page).getByRole('button', { name: 'Cancel' }).click();

  await nav(page, 'API keys');
  await page.getByRole('button', { name: 'New key' }).click();
  const keyForm = dialog(page);
  await keyForm.getByLabel('Name').fill(USER);
  await keyForm.getByLabel('Email').fill('alice@example.com');
  await pick(keyForm, 'Group', GROUP);
  await keyForm.getByLabel('Monthly quota (USD)').fill('1');
  await keyForm.getByRole('button', { name: 'Create' }).click();
  const issued = page.getByTestId('issued-key');
  await expect(issued).toHaveText(/^br-[0-9A-Za-z]{32,}$/);
  const plaintext = (await issued.textContent())!;
  await shot(page, '06-key-issued');
  await dialog(page).getByRole('button', { name: /^Copy/ }).click();
  await expect(dialog(page).getByRole('button', { name: /Copy/ })).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(plaintext);
  await dialog(page).getByRole('button', { name: 'Close' }).click();
  // Shown once: after closing, the plaintext is nowhere on the page.
  await expect(page.getByText(plaintext)).toHaveCount(0);
  state.userKey = plaintext;

  const row = page.getByRole('row').filter({ hasText: USER });
  await expect(row).toContainText(GROUP);
  await row.getByRole('button', { name: `Actions: ${USER}` }).click();
  await page.getByRole('menuitem', { name: 'Recharge' }).click();
  await dialog(page).getByLabel('Amount (USD)').fill('2.5');
  await dialog(page).getByRole('button', { name: 'Recharge' }).click();
  await expect(page.getByTestId('notice')).toHaveText('Recharged. Balance now $2.50.');
  await expect(row.getByTestId(/key-balance-/)).toHaveText('$2.50');

  // Edit: the quota and a limit. An expiry with seconds (set through the API; the picker shows minutes) is left
  // untouched by the form, so it is kept to the second.
  const adminApi = { headers: { authorization: `Bearer ${ADMIN_KEY()}` } };
  const listed = async (): Promise<{ id: number; expires_at: string | null }> => {
    const res = await page.request.get(`${URL_BASE()}/admin/api-key/list?q=${USER}`, adminApi);
    const body = (await res.json()) as { data: { items: Array<{ id: number; expires_at: string | null }> } };
    return body.data.items[0] ?? { id: 0, expires_at: null };
  };
  const expiry = new Date(Date.UTC(new Date().getUTCFullYear() + 1, 5, 1, 12, 30, 45)).toISOString();
  const updated = await page.request.post(`${URL_BASE()}/admin/api-key/update`, {
    ...adminApi,
    data: { id: (await listed()).id, expires_at: expiry },
  });
  expect(updated.status()).toBe(200);
  await page.reload();
  await row.getByRole('button', { name: `Actions: ${USER}` }).click();
  await page.getByRole('menuitem', { name: 'Edit' }).click();
  await dialog(page).getByLabel('Monthly quota (USD)').fill('2');
  await dialog(page).getByLabel('Requests per minute').fill('60');
  await dialog(page).getByRole('button', { name: 'Save' }).click();
  await expect(row).toContainText('$0.00 of $2.00 this month');
  expect((await listed()).expires_at).toBe(expiry);

  // Models bound to the key itself (on top of its group's).
  await row.getByRole('button', { name: `Actions: ${USER}` }).click();
  await page.getByRole('menuitem', { name: 'Models' }).click();
  await pick(dialog(page), 'Model to bind', MODEL);
  await dialog(page).getByRole('button', { name: 'Bind' }).click();
  await expect(dialog(page).getByRole('cell', { name: MODEL, exact: true })).toBeVisible();
  await shot(page, '07-key-models');
  await dialog(page)
    .getByRole('button', { name: `Unbind ${MODEL}` })
    .click();
  await expect(dialog(page).getByText('Nothing here yet.')).toBeVisible();
  await page.keyboard.press('Escape');

  // Disable and enable: where the backend has these routes the status follows; where it does not yet, the
  // console shows the backend's own message.
  await row.getByRole('button', { name: `Actions: ${USER}` }).click();
  await page.getByRole('menuitem', { name: 'Disable' }).click();
  const disabled = row.getByText('disabled');
  const refusal = page.getByTestId('error-message');
  await expect(disabled.or(refusal)).toBeVisible();
  if (await refusal.isVisible()) {
    await expect(refusal).toContainText('/admin/api-key/disable');
  } else {
    await row.getByRole('button', { name: `Actions: ${USER}` }).click();
    await page.getByRole('menuitem', { name: 'Enable' }).click();
    await expect(row.getByText('active')).toBeVisible();
  }

  // Search and filters narrow the list.
  await page.getByLabel('Search').fill('alice');
  await expect(page.getByRole('row')).toHaveCount(2);
  await shot(page, '07-keys');

  await nav(page, 'Payments');
  await expect(page.getByRole('cell', { name: '$2.50' }).first()).toBeVisible();
  await shot(page, '08-payments');
});

/** Sends one message and records every text the answer showed on its way, via a MutationObserver. */
async function chat(page: Page, text: string): Promise<{ snapshots: string[]; final: string }> {
  await expect(page.getByRole('textbox', { name: 'Model' })).toHaveValue(MODEL);
  await page.evaluate(() => {
    const w = window as unknown as { __snapshots: string[] };
    w.__snapshots = [];
    const target = document.querySelector('[data-testid="conversation"]')!;
    new MutationObserver(() => {
      const answers = target.querySelectorAll('[data-testid="assistant-text"]');
      const last = answers[answers.length - 1];
      const value = last?.textContent ?? '';
      if (w.__snapshots[w.__snapshots.length - 1] !== value) w.__snapshots.push(value);
    }).observe(target, { subtree: true, childList: true, characterData: true });
  });
  const answered = await page.getByTestId('answer-fee').count();
  await page.getByLabel('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  // While it streams, the page says so and part of the answer is already there.
  await expect(page.getByText('Answering…')).toBeVisible();
  await expect(page.getByTestId('answer-fee')).toHaveCount(answered + 1, { timeout: 20_000 });
  const final = (await page.getByTestId('assistant-text').last().textContent()) ?? '';
  const snapshots = await page.evaluate(() => (window as unknown as { __snapshots: string[] }).__snapshots);
  return { snapshots: snapshots.filter((s) => s.length > 0), final };
}

test('the playground streams the answer as it arrives and shows its tokens and recorded fee', async ({ page }) => {
  await signIn(page, ADMIN_KEY());
  await nav(page, 'Playground');
  await page.getByLabel('System prompt (optional)').fill('Answer briefly.');
  const { snapshots, final } = await chat(page, 'Hello from the admin');
  expect(final).toContain('[simulated Bedrock] You said: Hello from the admin');
  // Incremental: several distinct, growing texts before the last one.
  expect(snapshots.length).toBeGreaterThanOrEqual(4);
  expect(snapshots[0].length).toBeLessThan(final.length);
  for (let i = 1; i < snapshots.length; i++) expect(final.startsWith(snapshots[i - 1])).toBe(true);
  await expect(page.getByTestId('answer-meta')).toContainText(/\d+ in · \d+ out/);
  await expect(page.getByTestId('answer-fee')).toHaveText(/^Fee \$0\.\d+ \(recorded\)$/);

  // A second turn with an image (a data URL): the history and the picture go along.
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
  await page.locator('input[type="file"]').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: png });
  await expect(page.getByRole('button', { name: 'Remove image 1' })).toBeVisible();
  const second = await chat(page, 'What is in this picture?');
  expect(second.final).toContain('You said: What is in this picture?');
  await expect(page.getByTestId('user-turn').last().locator('img')).toHaveCount(1);
  await shot(page, '09-playground');
});

test('the thread appears in the threads page with its fee, and its detail shows the record', async ({ page }) => {
  await signIn(page, ADMIN_KEY());
  await nav(page, 'Threads');
  const row = page.getByRole('row').filter({ hasText: 'Hello from the admin' });
  await expect(row).toHaveCount(1);
  const fee = (await row.getByTestId(/thread-fee-/).textContent())!;
  expect(fee).toMatch(/^\$0\.\d+$/);
  expect(Number(fee.slice(1))).toBeGreaterThan(0);
  await shot(page, '10-threads');
  await row.getByRole('link').first().click();
  await expect(page.getByTestId('thread-fee')).toHaveText(fee);
  await expect(page.getByRole('heading', { name: 'Prompt' })).toBeVisible();
  await expect(page.getByText('[simulated Bedrock] You said: Hello from the admin')).toBeVisible();
  await shot(page, '11-thread-detail');

  await nav(page, 'Sessions');
  await expect(page.getByRole('row')).toHaveCount(2);
  await shot(page, '12-sessions');
  await nav(page, 'Dashboard');
  await expect(page.getByTestId('total-spend')).not.toHaveText('$0.00');
  await shot(page, '14-dashboard-with-usage');
});

test('a user key sees only its own pages and threads, and an admin URL is refused', async ({ page }) => {
  expect(state.userKey).toBeTruthy();
  await signIn(page, state.userKey!);
  await expect(page.getByRole('heading', { name: 'My key' })).toBeVisible();
  await expect(page.getByTestId('my-balance')).toHaveText('$2.50');
  await expect(page.getByRole('navigation', { name: 'Administration' })).toHaveCount(0);
  await shot(page, '15-my-key');

  await nav(page, 'Playground');
  const { final } = await chat(page, 'Hello from alice');
  expect(final).toContain('You said: Hello from alice');

  await nav(page, 'My threads');
  await expect(page.getByRole('row').filter({ hasText: 'Hello from alice' })).toHaveCount(1);
  await expect(page.getByText('Hello from the admin')).toHaveCount(0);
  await shot(page, '16-my-threads');
  await nav(page, 'My sessions');
  await expect(page.getByRole('row')).toHaveCount(2);
  await shot(page, '17-my-sessions');
  // A session opens its threads, under the session's own totals.
  await page.getByRole('row').nth(1).getByRole('button').click();
  await expect(page.getByTestId('session-summary')).toContainText('Hello from alice');
  await expect(page.getByRole('row').filter({ hasText: 'Hello from alice' })).toHaveCount(1);
  await nav(page, 'My usage');
  await expect(page.getByTestId('chart-spend')).toBeVisible();
  await shot(page, '17-my-usage');

  // Direct URLs of admin pages: a refusal, not the page.
  for (const path of ['keys', 'dashboard', 'threads']) {
    await page.goto(`${URL_BASE()}/console/${path}`);
    await expect(page.getByTestId('refused')).toBeVisible();
  }
  await shot(page, '18-refused');

  // The key lives in this tab only: sessionStorage while signed in, never localStorage, nothing after sign-out.
  const stored = () => page.evaluate(() => ({ session: Object.values(sessionStorage), local: Object.values(localStorage) }));
  expect((await stored()).session).toContain(state.userKey);
  expect((await stored()).local).not.toContain(state.userKey);
  // A reload while the gateway does not answer says nothing about the key: it is kept, and can be checked again.
  await page.route('**/user/api-key/mine', (route) =>
    route.fulfill({ status: 503, contentType: 'application/json', body: '{"code":503,"message":"Service Unavailable"}' }),
  );
  await page.reload();
  await expect(page.getByTestId('restore-error')).toBeVisible();
  expect((await stored()).session).toContain(state.userKey);
  await page.unroute('**/user/api-key/mine');
  await page.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByTestId('signed-in-as')).toContainText('(user)');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByLabel('API key')).toBeVisible();
  expect(await stored()).toEqual({ session: [], local: expect.not.arrayContaining([state.userKey]) });
  // A reload after sign-out stays signed out.
  await page.reload();
  await expect(page.getByLabel('API key')).toBeVisible();
});

test('the admin adds a Feishu bot: secrets come back masked, the webhook URL can be copied', async ({ page }) => {
  await signIn(page, ADMIN_KEY());
  await nav(page, 'Feishu bots');
  await page.getByRole('button', { name: 'New bot' }).click();
  const form = dialog(page);
  await form.getByLabel('Name').fill('e2e bot');
  await form.getByLabel('App ID').fill('cli_e2e');
  await form.getByLabel('App secret').fill('app-secret-e2e-0123456789abcdef');
  await form.getByLabel('Gateway API key of the bot').fill(state.userKey!);
  await form.getByLabel(/^Model/).fill(MODEL);
  await form.getByLabel('Encrypt key', { exact: true }).fill('encrypt-key-e2e-0123456789abcdef');
  // Token-only verification is opt-in, and the form says what it costs.
  await expect(form.getByLabel('Allow unsigned events (no encrypt key)')).not.toBeChecked();
  await expect(form.getByText(/anyone who learns the verification token can forge messages/)).toBeVisible();
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('heading', { name: 'e2e bot' })).toBeVisible();
  await expect(page.getByText('••••cdef')).toHaveCount(2);
  await expect(page.getByText('app-secret-e2e-0123456789abcdef')).toHaveCount(0);
  await expect(page.getByText(state.userKey!)).toHaveCount(0);
  const webhook = `${URL_BASE()}/bot/feishu/1/webhook`;
  await expect(page.getByText(webhook)).toBeVisible();
  await page.getByRole('button', { name: 'Copy Webhook URL e2e bot' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(webhook);
  await shot(page, '13-bots');
});

test('a reset shows the new key once; a tab still using the old key is signed out, saying why', async ({ browser, page }) => {
  const userTab = await browser.newPage();
  await signIn(userTab, state.userKey!);
  const reloadedTab = await browser.newPage();
  await signIn(reloadedTab, state.userKey!);
  await signIn(page, ADMIN_KEY());
  await nav(page, 'API keys');
  const row = page.getByRole('row').filter({ hasText: USER });
  await row.getByRole('button', { name: `Actions: ${USER}` }).click();
  await page.getByRole('menuitem', { name: 'Reset' }).click();
  await expect(dialog(page)).toContainText('The current key stops working at once');
  await dialog(page).getByRole('button', { name: 'Confirm' }).click();
  const issued = page.getByTestId('issued-key');
  await expect(issued).toHaveText(/^br-[0-9A-Za-z]{32,}$/);
  const fresh = (await issued.textContent())!;
  expect(fresh).not.toBe(state.userKey);
  await dialog(page).getByRole('button', { name: 'Close' }).click();

  await userTab.getByRole('navigation').getByRole('link', { name: 'My threads', exact: true }).click();
  await expect(userTab.getByText('Signed out: the key stopped working')).toBeVisible();
  await expect(userTab.getByLabel('API key')).toBeVisible();
  await shot(userTab, '14-signed-out-after-reset');
  // A tab reloaded with the old key kept in it is signed out the same way, saying why.
  await reloadedTab.reload();
  await expect(reloadedTab.getByText('Signed out: the key stopped working')).toBeVisible();
  await expect(reloadedTab.getByLabel('API key')).toBeVisible();
  expect(await reloadedTab.evaluate(() => sessionStorage.length)).toBe(0);
  await reloadedTab.close();
  await signIn(userTab, fresh);
  await expect(userTab.getByTestId('my-balance')).toHaveText('$2.50');
  state.userKey = fresh;
  await userTab.close();
});

test('keyboard: the first Tab reaches "Skip to content", which moves focus to the page', async ({ page }) => {
  await signIn(page, ADMIN_KEY());
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await page.keyboard.press('Enter');
  await expect(page.locator('#main')).toBeFocused();
});

test('the language switch turns the console into Chinese and back', async ({ page }) => {
  await signIn(page, ADMIN_KEY());
  await page.getByText('中文').click();
  await expect(page.getByRole('heading', { name: '概览' })).toBeVisible();
  await expect(page.getByRole('button', { name: '退出登录' })).toBeVisible();
  await shot(page, '19-chinese');
  await page.getByText('English').click();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
});

test('on a phone-width screen the navigation folds into a menu button', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, ADMIN_KEY());
  await expect(page.getByRole('link', { name: 'API keys' })).not.toBeInViewport();
  await page.getByRole('button', { name: 'Toggle navigation' }).click();
  await page.getByRole('link', { name: 'API keys' }).click();
  await expect(page.getByRole('heading', { name: 'API keys' })).toBeVisible();
  await shot(page, '20-phone-keys');
  await page.getByRole('button', { name: 'Toggle navigation' }).click();
  await page.getByRole('link', { name: 'Playground' }).click();
  await expect(page.getByRole('link', { name: 'API keys' })).not.toBeInViewport();
  await expect(page.getByRole('button', { name: 'Send' })).toBeInViewport();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeInViewport({ ratio: 1 });
  // Nothing but the wide tables (which scroll inside their own box) is wider than the phone.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await shot(page, '21-phone-playground');
});
