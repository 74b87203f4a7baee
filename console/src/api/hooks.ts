import { useQuery } from '@tanstack/react-query';
import { useApi } from '../auth/session';
import type { Group, Model, Page } from './types';

/** Admin-sized collections the forms pick from (groups, models): one page of up to 1000. */
export function useGroups() {
  const api = useApi();
  return useQuery({ queryKey: ['groups', 'all'], queryFn: () => api.get<Page<Group>>('/admin/group/list', { limit: 1000 }) });
}

export function useModels() {
  const api = useApi();
  return useQuery({ queryKey: ['models', 'all'], queryFn: () => api.get<Page<Model>>('/admin/model/list', { limit: 1000 }) });
}

/** The models the signed-in key may call, with their prices (never their configuration). */
export function useMyModels() {
  const api = useApi();
  return useQuery({ queryKey: ['my-models'], queryFn: () => api.get<Page<Omit<Model, 'config'>>>('/user/model/list', { limit: 1000 }) });
}

export function groupName(groups: Group[] | undefined, id: number | null): string {
  if (id === null) return '—';
  return groups?.find((g) => g.id === id)?.name ?? `#${id}`;
}
