import type { Shape } from '../shape';
import type zh from '../zh-CN/households';

const en: Shape<typeof zh> = {
  household: 'Household',
  address: 'Address',
  occupants: 'Occupants',
  occupantCount: '{n}',
  flags: {
    elderly_alone: 'Elderly, alone',
    bedridden: 'Bedridden',
    disabled: 'Disabled',
    infant: 'Infant',
    left_behind_child: 'Left-behind child',
    elderly: 'Elderly',
    migrant: 'Migrant worker',
  },
  heating: {
    coal_stove: 'Coal stove',
    charcoal: 'Charcoal',
    kang: 'Kang',
    gas_water_heater_flued: 'Gas water heater (flued)',
    gas_water_heater_flueless: 'Gas water heater (no flue)',
    gas_cooker: 'Gas cooker',
    other: 'Other',
  },
  heatingLabel: 'Heating and gas',
  relations: {
    occupant: 'Occupant',
    family: 'Family',
    neighbour: 'Neighbour',
    grid_worker: 'Grid worker',
    village_cadre: 'Village cadre',
  },
  dwellings: {
    own_home: 'Own home',
    rental: 'Rental',
    urban_village: 'Urban village',
    remote_single: 'Remote, single',
  },
  detectorAt: 'Detector: {location}',
  notes: 'Notes',
  householdContacts: 'Household contacts',
  siteContacts: 'Duty notification tiers',
};

export default en;
