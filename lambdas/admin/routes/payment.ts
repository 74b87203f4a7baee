import type { Route } from '../../core/http/router.js';
import { page } from '../../core/http/envelope.js';
import { dropEmpty, parse, zId, zPage } from '../../core/validate.js';
import { listPayments } from '../../core/store/payments.js';
import { paymentView } from '../../core/http/views.js';

export const paymentRoutes: Route[] = [
  {
    method: 'GET',
    path: '/admin/payment/list',
    run: async ({ query }) => {
      const q = parse(zPage.extend({ key_id: zId.optional() }), dropEmpty(query));
      return page((await listPayments(q.key_id)).map(paymentView), q.limit, q.offset);
    },
  },
];
