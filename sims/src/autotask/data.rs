//! Tenants: a small hand-written sample and a seeded generator of any size.
//!
//! Both carry the variety the counting rules of docs/contract.md §3 must cope with: company 0
//! (the MSP's own, a real company), inactive companies, accented and punctuated names,
//! inactive items, items whose `configurationItemType` is null or names no existing type,
//! an inactive type, types nobody maps ("Wireless Access Point", "Virtual Machine"), a
//! type no item has ("Storage (NAS)"), "Switch" next to "Network Switch", items at
//! company 0 and at inactive companies, an item without a company, and ids with gaps.

use serde::{Deserialize, Serialize};

use super::model::{AtCompany, AtConfigurationItem, AtConfigurationItemType, AtTenant};

/// Size and seed of a generated tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtGenerateSpec {
    /// Companies, company 0 included.
    pub companies: usize,
    /// Configuration items.
    pub items: usize,
    pub seed: u64,
}

impl Default for AtGenerateSpec {
    fn default() -> Self {
        AtGenerateSpec {
            companies: 500,
            items: 50_000,
            seed: 1,
        }
    }
}

/// A type id no `ConfigurationItemTypes` row has (a deleted type).
pub const MISSING_TYPE_ID: i64 = 13;

/// (id, name, isActive, productID, rmm device type). Ids have gaps (9, 13).
const TYPES: &[(i64, &str, bool, i64, Option<i64>)] = &[
    (1, "Desktop", true, 29_682_801, Some(1)),
    (2, "Laptop", true, 29_682_802, Some(2)),
    (3, "Server", true, 29_682_803, Some(3)),
    (4, "ESXi Host", true, 29_682_804, Some(3)),
    (5, "Firewall", true, 29_682_805, Some(5)),
    (6, "Switch", true, 29_682_806, Some(5)),
    (7, "Printer", true, 29_682_807, Some(6)),
    (8, "Mobile Device", true, 29_682_808, Some(7)),
    (10, "Network Switch", true, 29_682_806, Some(5)),
    (11, "UPS", true, 29_682_811, None),
    (12, "Wireless Access Point", true, 29_682_812, Some(5)),
    (14, "Legacy Workstation", false, 29_682_801, Some(1)),
    (15, "Virtual Machine", true, 29_682_815, Some(3)),
    // No item has this type.
    (16, "Storage (NAS)", true, 29_682_816, None),
];

fn types() -> Vec<AtConfigurationItemType> {
    TYPES
        .iter()
        .map(|&(id, name, is_active, _, _)| AtConfigurationItemType {
            id,
            name: name.to_string(),
            is_active,
            user_defined_fields: Vec::new(),
        })
        .collect()
}

fn type_info(type_id: Option<i64>) -> (&'static str, i64, Option<i64>) {
    TYPES
        .iter()
        .find(|t| Some(t.0) == type_id)
        .map(|t| (t.1, t.3, t.4))
        .unwrap_or(("Device", 29_682_800, None))
}

fn company(id: i64, name: &str, company_type: i64, is_active: bool, city: &str) -> AtCompany {
    AtCompany {
        id,
        company_name: name.to_string(),
        company_number: Some(format!("C{:05}", id)),
        company_type,
        is_active,
        owner_resource_id: Some(29_682_885),
        phone: Some(format!("+1 555 01{:02}", id % 100)),
        city: Some(city.to_string()),
        classification: None,
        create_date: Some("2019-03-04T14:21:07.000Z".to_string()),
        last_activity_date: Some("2025-10-30T09:12:44.000Z".to_string()),
        last_tracked_modified_date_time: Some("2025-10-30T09:12:44.137Z".to_string()),
        ..AtCompany::default()
    }
}

fn item(
    id: i64,
    company_id: Option<i64>,
    type_id: Option<i64>,
    is_active: bool,
    title: &str,
) -> AtConfigurationItem {
    let (type_name, product_id, rmm_type) = type_info(type_id);
    let workstation = matches!(type_name, "Desktop" | "Laptop" | "Legacy Workstation");
    AtConfigurationItem {
        id,
        company_id,
        configuration_item_type: type_id,
        configuration_item_category_id: Some(if workstation { 1 } else { 2 }),
        is_active,
        reference_title: Some(title.to_string()),
        reference_number: Some(format!("AT-{id}")),
        serial_number: Some(format!(
            "SN{:08X}",
            (id as u64).wrapping_mul(2_654_435_761) as u32
        )),
        product_id: Some(product_id),
        contact_id: None,
        install_date: Some("2022-06-01T00:00:00.000Z".to_string()),
        create_date: Some("2022-06-01T10:30:00.000Z".to_string()),
        last_modified_time: Some("2025-11-02T08:00:00.000Z".to_string()),
        number_of_users: workstation.then_some(1.0),
        rmm_device_audit_device_type_id: rmm_type,
        rmm_device_audit_operating_system: match type_name {
            "Desktop" | "Laptop" => Some("Microsoft Windows 11 Pro".to_string()),
            "Server" | "Virtual Machine" => {
                Some("Microsoft Windows Server 2022 Standard".to_string())
            }
            "ESXi Host" => Some("VMware ESXi 8.0.2".to_string()),
            _ => None,
        },
        rmm_device_audit_hostname: Some(title.to_ascii_uppercase().replace(' ', "-")),
        ..AtConfigurationItem::default()
    }
}

impl AtTenant {
    /// A small, hand-written tenant (16 companies, 14 types, 70 items).
    pub fn sample() -> AtTenant {
        let companies = vec![
            company(0, "Northwind IT Services", 1, true, "Seattle"),
            company(174, "Contoso Ltd", 1, true, "Redmond"),
            company(175, "Fabrikam, Inc.", 1, true, "Portland"),
            company(178, "Bäckerei Schäfer KG", 1, true, "München"),
            company(180, "Smith & Wesson Dental, P.C.", 1, true, "Springfield"),
            company(181, "L'Atelier Café", 1, true, "Montréal"),
            company(183, "Tailspin Toys", 4, false, "Boise"),
            company(186, "Müller & Söhne GmbH", 1, true, "Köln"),
            company(190, "O'Brien Family Law, LLP", 1, true, "Boston"),
            company(191, "Årstad Fjordbruk AS", 1, true, "Bergen"),
            company(193, "Adventure Works Cycles", 6, false, "Denver"),
            company(195, "Zürich Consulting AG", 1, true, "Zürich"),
            company(196, "Blue Yonder Airlines", 3, true, "Dallas"),
            company(198, "Dell Technologies", 7, true, "Round Rock"),
            company(199, "Coho Winery", 1, true, "Napa"),
            company(201, "Ñandú Logística S.A.", 1, true, "Buenos Aires"),
        ];
        // (company, type, isActive, title)
        let rows: &[(Option<i64>, Option<i64>, bool, &str)] = &[
            // The MSP's own company (id 0).
            (Some(0), Some(1), true, "NW-DESK-01"),
            (Some(0), Some(2), true, "NW-LAP-01"),
            (Some(0), Some(3), true, "NW-SRV-DC01"),
            // Contoso: a bit of everything, one inactive laptop.
            (Some(174), Some(1), true, "CONTOSO-WS01"),
            (Some(174), Some(1), true, "CONTOSO-WS02"),
            (Some(174), Some(1), true, "CONTOSO-WS03"),
            (Some(174), Some(2), true, "CONTOSO-LT01"),
            (Some(174), Some(2), true, "CONTOSO-LT02"),
            (Some(174), Some(2), false, "CONTOSO-LT-OLD"),
            (Some(174), Some(3), true, "CONTOSO-SRV01"),
            (Some(174), Some(4), true, "CONTOSO-ESX01"),
            (Some(174), Some(5), true, "CONTOSO-FW01"),
            (Some(174), Some(6), true, "CONTOSO-SW01"),
            (Some(174), Some(7), true, "CONTOSO-PRN01"),
            // Fabrikam: a null type and a type that no longer exists.
            (Some(175), Some(2), true, "FAB-LT01"),
            (Some(175), Some(2), true, "FAB-LT02"),
            (Some(175), Some(1), true, "FAB-WS01"),
            (Some(175), None, true, "FAB-UNTYPED"),
            (Some(175), Some(MISSING_TYPE_ID), true, "FAB-DELETED-TYPE"),
            (Some(175), Some(8), true, "FAB-IPHONE-CEO"),
            // Bäckerei Schäfer: UPS and a "Network Switch" (not "Switch").
            (Some(178), Some(1), true, "BS-KASSE-01"),
            (Some(178), Some(1), true, "BS-KASSE-02"),
            (Some(178), Some(11), true, "BS-UPS01"),
            (Some(178), Some(10), true, "BS-NETSW01"),
            // Smith & Wesson Dental: an inactive server.
            (Some(180), Some(1), true, "SWD-FRONTDESK"),
            (Some(180), Some(1), true, "SWD-OP1"),
            (Some(180), Some(1), true, "SWD-OP2"),
            (Some(180), Some(3), false, "SWD-SRV-OLD"),
            (Some(180), Some(5), true, "SWD-FW01"),
            // L'Atelier Café: a type nobody maps.
            (Some(181), Some(2), true, "LATELIER-LT01"),
            (Some(181), Some(12), true, "LATELIER-WAP01"),
            // Tailspin Toys (inactive company) still has active items.
            (Some(183), Some(1), true, "TT-WS01"),
            (Some(183), Some(1), true, "TT-WS02"),
            (Some(183), Some(3), true, "TT-SRV01"),
            // Müller & Söhne: an item of the inactive type.
            (Some(186), Some(3), true, "MS-SRV01"),
            (Some(186), Some(4), true, "MS-ESX01"),
            (Some(186), Some(4), true, "MS-ESX02"),
            (Some(186), Some(14), true, "MS-XP-LAGER"),
            // O'Brien Family Law.
            (Some(190), Some(2), true, "OBFL-LT01"),
            (Some(190), Some(2), true, "OBFL-LT02"),
            (Some(190), Some(7), true, "OBFL-PRN01"),
            // Årstad Fjordbruk: a virtual machine.
            (Some(191), Some(1), true, "AF-WS01"),
            (Some(191), Some(15), true, "AF-VM-APP01"),
            // Adventure Works (inactive company): one active, one inactive laptop.
            (Some(193), Some(2), true, "AW-LT01"),
            (Some(193), Some(2), false, "AW-LT02"),
            // Blue Yonder (a prospect) already has a device.
            (Some(196), Some(1), true, "BYA-WS01"),
            // Coho Winery: the largest customer.
            (Some(199), Some(1), true, "COHO-WS01"),
            (Some(199), Some(1), true, "COHO-WS02"),
            (Some(199), Some(1), true, "COHO-WS03"),
            (Some(199), Some(1), true, "COHO-WS04"),
            (Some(199), Some(2), true, "COHO-LT01"),
            (Some(199), Some(2), true, "COHO-LT02"),
            (Some(199), Some(2), true, "COHO-LT03"),
            (Some(199), Some(3), true, "COHO-SRV01"),
            (Some(199), Some(6), true, "COHO-SW01"),
            (Some(199), Some(6), false, "COHO-SW-SPARE"),
            (Some(199), Some(5), true, "COHO-FW01"),
            (Some(199), Some(8), true, "COHO-TABLET01"),
            (Some(199), Some(8), true, "COHO-TABLET02"),
            (Some(199), None, false, "COHO-OLD-UNTYPED"),
            // Ñandú Logística: an inactive desktop.
            (Some(201), Some(2), true, "NANDU-LT01"),
            (Some(201), Some(1), false, "NANDU-WS-BAJA"),
            (Some(201), Some(1), true, "NANDU-WS01"),
            (Some(201), Some(10), true, "NANDU-NETSW01"),
            (Some(201), Some(11), true, "NANDU-UPS01"),
            // More company-0 and cross-cutting cases.
            (Some(0), Some(12), true, "NW-WAP-LOBBY"),
            (Some(0), Some(1), false, "NW-DESK-RETIRED"),
            (
                Some(174),
                Some(MISSING_TYPE_ID),
                false,
                "CONTOSO-DELETED-TYPE-OLD",
            ),
            (Some(191), Some(8), true, "AF-PHONE01"),
            // No company at all.
            (None, Some(1), true, "UNASSIGNED-WS"),
        ];
        let mut id = 29_682_900;
        let configuration_items = rows
            .iter()
            .enumerate()
            .map(|(i, &(company, ty, active, title))| {
                // Gaps in ids, as deleted items leave them.
                id += 1 + (i as i64 % 4) * (i as i64 % 3);
                item(id, company, ty, active, title)
            })
            .collect();
        AtTenant {
            companies,
            configuration_items,
            configuration_item_types: types(),
        }
    }

    /// A seeded tenant of the given size: the same spec always gives the same tenant.
    /// Company 0 is always present; the other companies get ids from 170 up with gaps.
    pub fn generate(spec: &AtGenerateSpec) -> AtTenant {
        let mut rng = fastrand::Rng::with_seed(spec.seed);
        let mut companies = Vec::with_capacity(spec.companies.max(1));
        companies.push(company(0, "Northwind IT Services", 1, true, "Seattle"));
        let mut next_id = 170;
        for n in 1..spec.companies {
            let name = format!(
                "{}{} {}",
                PREFIXES[rng.usize(..PREFIXES.len())],
                if rng.u8(..10) == 0 {
                    format!(" {}", CITIES[rng.usize(..CITIES.len())])
                } else {
                    String::new()
                },
                SUFFIXES[rng.usize(..SUFFIXES.len())]
            );
            let company_type = match rng.u8(..100) {
                0..=84 => 1,
                85..=89 => 3,
                90..=93 => 8,
                94..=96 => 7,
                _ => 6,
            };
            let active = rng.u8(..100) >= 8;
            let city = CITIES[rng.usize(..CITIES.len())];
            let mut c = company(next_id, &name, company_type, active, city);
            c.company_number = Some(format!("C{n:05}"));
            companies.push(c);
            next_id += 1 + rng.i64(0..4);
        }
        let company_ids: Vec<i64> = companies.iter().map(|c| c.id).collect();

        let mut items = Vec::with_capacity(spec.items);
        let mut id: i64 = 29_700_000;
        for n in 0..spec.items {
            id += 1 + if rng.u8(..5) == 0 { rng.i64(1..20) } else { 0 };
            let company_id = match rng.u16(..1000) {
                0..=2 => None,
                3..=22 => Some(0),
                _ => {
                    // Skewed: a few large customers, a long tail of small ones.
                    let x = rng.f64();
                    let i = (x * x * company_ids.len() as f64) as usize;
                    Some(company_ids[i.min(company_ids.len() - 1)])
                }
            };
            let ty = pick_type(&mut rng);
            let active = rng.u8(..100) >= 12;
            let prefix = company_id.map_or("UNASSIGNED".to_string(), |c| format!("C{c}"));
            let (type_name, _, _) = type_info(ty);
            let abbrev: String = type_name
                .split_whitespace()
                .filter_map(|w| w.chars().next())
                .collect();
            let mut ci = item(
                id,
                company_id,
                ty,
                active,
                &format!("{prefix}-{abbrev}-{n:05}"),
            );
            ci.serial_number = Some(format!("{:010X}", rng.u64(..1 << 40)));
            ci.create_date = Some(format!(
                "20{:02}-{:02}-{:02}T{:02}:{:02}:00.000Z",
                rng.u8(18..26),
                rng.u8(1..13),
                rng.u8(1..29),
                rng.u8(..24),
                rng.u8(..60)
            ));
            items.push(ci);
        }
        AtTenant {
            companies,
            configuration_items: items,
            configuration_item_types: types(),
        }
    }
}

/// Type of a generated item: mostly workstations, some nulls and deleted types.
fn pick_type(rng: &mut fastrand::Rng) -> Option<i64> {
    const WEIGHTS: &[(Option<i64>, u32)] = &[
        (Some(1), 300),
        (Some(2), 280),
        (Some(3), 70),
        (Some(4), 20),
        (Some(5), 30),
        (Some(6), 30),
        (Some(7), 60),
        (Some(8), 80),
        (Some(10), 20),
        (Some(11), 20),
        (Some(12), 20),
        (Some(14), 10),
        (Some(15), 20),
        (None, 20),
        (Some(MISSING_TYPE_ID), 20),
    ];
    let total: u32 = WEIGHTS.iter().map(|w| w.1).sum();
    let mut x = rng.u32(..total);
    for &(ty, w) in WEIGHTS {
        if x < w {
            return ty;
        }
        x -= w;
    }
    Some(1)
}

const PREFIXES: &[&str] = &[
    "Contoso",
    "Fabrikam",
    "Bäckerei Schäfer",
    "Müller & Söhne",
    "L'Atelier",
    "O'Brien",
    "Smith & Jones",
    "Northwind Traders",
    "Tailspin",
    "Litware",
    "Wingtip",
    "Årstad",
    "Ñandú",
    "Proseware",
    "Lucerne Publishing",
    "Margie's Travel",
    "Alpine Ski House",
    "Coho",
    "Fourth Coffee",
    "Humongous Insurance",
    "Trey Research",
    "Woodgrove",
    "Wide World Importers",
    "Adatum",
    "Relecloud",
    "VanArsdel",
    "Southridge Video",
    "Zürich Partners",
    "Łódź Dental",
    "Crème de la Crème",
];

const SUFFIXES: &[&str] = &[
    "Ltd",
    "GmbH",
    "KG",
    "Inc.",
    "LLC",
    "S.A.",
    "AG",
    "Dental, P.C.",
    "& Co.",
    "Law, LLP",
    "Café",
    "Logistics",
    "Holdings",
    "Clinic",
    "Group",
];

const CITIES: &[&str] = &[
    "Seattle",
    "München",
    "Montréal",
    "Bergen",
    "Zürich",
    "Kraków",
    "Boston",
    "Lyon",
    "São Paulo",
    "Denver",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn sample_has_the_variety() {
        let t = AtTenant::sample();
        assert!(t.companies.iter().any(|c| c.id == 0));
        assert!(t.companies.iter().any(|c| !c.is_active));
        let ids: HashSet<i64> = t.configuration_items.iter().map(|i| i.id).collect();
        assert_eq!(ids.len(), t.configuration_items.len());
        let cis = &t.configuration_items;
        assert!(cis.iter().any(|i| i.configuration_item_type.is_none()));
        assert!(
            cis.iter()
                .any(|i| i.configuration_item_type == Some(MISSING_TYPE_ID))
        );
        assert!(cis.iter().any(|i| i.company_id.is_none()));
        assert!(cis.iter().any(|i| !i.is_active));
        assert!(cis.iter().any(|i| i.company_id == Some(0)));
        assert!(
            !t.configuration_item_types
                .iter()
                .any(|t| t.id == MISSING_TYPE_ID)
        );
    }

    #[test]
    fn generate_is_deterministic_and_sized() {
        let spec = AtGenerateSpec {
            companies: 50,
            items: 2_000,
            seed: 42,
        };
        let a = AtTenant::generate(&spec);
        assert_eq!(a, AtTenant::generate(&spec));
        assert_eq!(a.companies.len(), 50);
        assert_eq!(a.configuration_items.len(), 2_000);
        assert_ne!(a, AtTenant::generate(&AtGenerateSpec { seed: 43, ..spec }));
        let ids: Vec<i64> = a.configuration_items.iter().map(|i| i.id).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(ids.windows(2).any(|w| w[1] - w[0] > 1), "ids have gaps");
    }
}
