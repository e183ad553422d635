import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router';
import AlarmBoard from './pages/AlarmBoard.vue';

/**
 * The console's pages. Hash history (`/#/alarms/…`): the app is one file tree served as is, at
 * whatever path a site's proxy puts it, and a link in an SMS opens the right page without the
 * server knowing the app's routes. The board is in the first load; the others load when opened.
 */
export const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/alarms' },
  { path: '/alarms', name: 'alarms', component: AlarmBoard, meta: { nav: 'alarms' } },
  {
    path: '/alarms/:id',
    name: 'alarm',
    component: () => import('./pages/AlarmDetail.vue'),
    props: true,
    meta: { nav: 'alarms' },
  },
  { path: '/map', name: 'map', component: () => import('./pages/MapPage.vue'), meta: { nav: 'map' } },
  {
    path: '/devices',
    name: 'devices',
    component: () => import('./pages/DeviceList.vue'),
    meta: { nav: 'devices' },
  },
  {
    path: '/devices/:id',
    name: 'device',
    component: () => import('./pages/DevicePage.vue'),
    props: true,
    meta: { nav: 'devices' },
  },
  {
    path: '/history',
    name: 'history',
    component: () => import('./pages/HistoryPage.vue'),
    meta: { nav: 'history' },
  },
  {
    path: '/shifts',
    name: 'shifts',
    component: () => import('./pages/ShiftsPage.vue'),
    meta: { nav: 'shifts' },
  },
  {
    path: '/shifts/:id',
    name: 'shift',
    component: () => import('./pages/ShiftDetail.vue'),
    props: true,
    meta: { nav: 'shifts' },
  },
  {
    path: '/households',
    name: 'households',
    component: () => import('./pages/HouseholdList.vue'),
    meta: { nav: 'households' },
  },
  {
    path: '/households/new',
    name: 'household-new',
    component: () => import('./pages/HouseholdForm.vue'),
    meta: { nav: 'households' },
  },
  {
    path: '/households/import',
    name: 'household-import',
    component: () => import('./pages/HouseholdImport.vue'),
    meta: { nav: 'households' },
  },
  {
    path: '/households/attention',
    name: 'attention',
    component: () => import('./pages/AttentionPage.vue'),
    meta: { nav: 'households' },
  },
  {
    path: '/households/:id',
    name: 'household',
    component: () => import('./pages/HouseholdPage.vue'),
    props: true,
    meta: { nav: 'households' },
  },
  {
    path: '/households/:id/edit',
    name: 'household-edit',
    component: () => import('./pages/HouseholdForm.vue'),
    props: true,
    meta: { nav: 'households' },
  },
  {
    path: '/households/:id/inspect',
    name: 'inspect',
    component: () => import('./pages/InspectionForm.vue'),
    props: true,
    meta: { nav: 'households' },
  },
  {
    path: '/inspections/overdue',
    name: 'overdue-inspections',
    component: () => import('./pages/OverdueInspections.vue'),
    meta: { nav: 'households' },
  },
  {
    path: '/advisories',
    name: 'advisories',
    component: () => import('./pages/AdvisoriesPage.vue'),
    meta: { nav: 'households' },
  },
  {
    path: '/permits',
    name: 'permits',
    component: () => import('./pages/PermitList.vue'),
    meta: { nav: 'permits' },
  },
  {
    path: '/permits/new',
    name: 'permit-new',
    component: () => import('./pages/PermitForm.vue'),
    meta: { nav: 'permits' },
  },
  {
    path: '/permits/:id',
    name: 'permit',
    component: () => import('./pages/PermitPage.vue'),
    props: true,
    meta: { nav: 'permits' },
  },
  {
    path: '/permits/:id/edit',
    name: 'permit-edit',
    component: () => import('./pages/PermitForm.vue'),
    props: true,
    meta: { nav: 'permits' },
  },
  {
    path: '/permits/:id/test',
    name: 'gas-test',
    component: () => import('./pages/GasTestPage.vue'),
    props: true,
    meta: { nav: 'permits' },
  },
  {
    path: '/spaces',
    name: 'spaces',
    component: () => import('./pages/SpaceList.vue'),
    meta: { nav: 'permits' },
  },
  {
    path: '/reports',
    name: 'reports',
    component: () => import('./pages/ReportsPage.vue'),
    meta: { nav: 'reports' },
  },
  { path: '/:rest(.*)*', redirect: '/alarms' },
];

export const router = createRouter({ history: createWebHashHistory(), routes });
