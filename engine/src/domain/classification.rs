//! Business classification as data (seed 001 feature 18, SPEC §5.6): the GICS industry
//! sectors and groups, legal forms, company size ranges and the social platforms a business
//! profile may link to.
//!
//! Each value is stored in the journal as its code text (`information_technology`, `llc`,
//! `51-200`), exactly where a free-text string was stored before classification, so old
//! events still read: a stored text that is a code — or a code's label written any way
//! (`Information Technology`) — reads as that code, anything else as
//! [`Classified::Unclassified`] with the text kept. Commands accept codes only.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A classification field: not given, a code, or (profiles stored before classification)
/// free text that names no code.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Classified<T> {
    /// Not given (stored as "").
    #[default]
    Unset,
    /// One of the codes.
    Code(T),
    /// Free text stored before classification that matches no code; readable, never
    /// accepted in a command.
    Unclassified(String),
}

impl<T: Code> Classified<T> {
    /// Reads stored text: "" is unset, a code or a code's label is that code, else free text.
    pub fn read(text: &str) -> Self {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Self::Unset;
        }
        T::ALL
            .iter()
            .find(|c| {
                c.code() == trimmed
                    || c.label().eq_ignore_ascii_case(trimmed)
                    || c.code().eq_ignore_ascii_case(trimmed)
            })
            .map_or_else(|| Self::Unclassified(text.to_owned()), |c| Self::Code(*c))
    }

    /// The stored text: "" when unset, the code, or the free text.
    pub fn text(&self) -> &str {
        match self {
            Self::Unset => "",
            Self::Code(c) => c.code(),
            Self::Unclassified(text) => text,
        }
    }

    /// The code, if this is one.
    pub fn code(&self) -> Option<T> {
        match self {
            Self::Code(c) => Some(*c),
            _ => None,
        }
    }

    /// The free text, if this is unclassified.
    pub fn unclassified(&self) -> Option<&str> {
        match self {
            Self::Unclassified(text) => Some(text),
            _ => None,
        }
    }

    /// Whether nothing was given.
    pub fn is_unset(&self) -> bool {
        matches!(self, Self::Unset)
    }
}

impl<T: Code> From<Option<T>> for Classified<T> {
    fn from(code: Option<T>) -> Self {
        code.map_or(Self::Unset, Self::Code)
    }
}

impl<T: Code> Serialize for Classified<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.text())
    }
}

impl<'de, T: Code> Deserialize<'de> for Classified<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(Self::read(&text))
    }
}

/// A closed list of codes, each with its stored text and a human label.
pub trait Code: Copy + Eq + fmt::Debug + 'static {
    /// Every code, in the list's order.
    const ALL: &'static [Self];
    /// The stored text (`snake_case`, or the range as written).
    fn code(self) -> &'static str;
    /// The label people read (`Information Technology`).
    fn label(self) -> &'static str;
}

/// Declares a code list: `Variant => ("code", "Label")`.
macro_rules! codes {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl Code for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn code(self) -> &'static str {
                match self { $(Self::$variant => $code),+ }
            }
            fn label(self) -> &'static str {
                match self { $(Self::$variant => $label),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }

        impl FromStr for $name {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<Self, UnknownCode> {
                Self::ALL.iter().copied().find(|c| c.code() == s).ok_or(UnknownCode)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.code())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(|_| {
                    serde::de::Error::custom(format!(
                        concat!("unknown ", stringify!($name), " {:?}"),
                        text
                    ))
                })
            }
        }
    };
}

/// Text that is not one of a list's codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownCode;

codes! {
    /// GICS sector (the 11 of the 2018 structure).
    IndustrySector {
        /// 10
        Energy => ("energy", "Energy"),
        /// 15
        Materials => ("materials", "Materials"),
        /// 20
        Industrials => ("industrials", "Industrials"),
        /// 25
        ConsumerDiscretionary => ("consumer_discretionary", "Consumer Discretionary"),
        /// 30
        ConsumerStaples => ("consumer_staples", "Consumer Staples"),
        /// 35
        HealthCare => ("health_care", "Health Care"),
        /// 40
        Financials => ("financials", "Financials"),
        /// 45
        InformationTechnology => ("information_technology", "Information Technology"),
        /// 50
        CommunicationServices => ("communication_services", "Communication Services"),
        /// 55
        Utilities => ("utilities", "Utilities"),
        /// 60
        RealEstate => ("real_estate", "Real Estate"),
    }
}

codes! {
    /// GICS industry group (the 24 of the 2018 structure), each within one sector.
    IndustryGroup {
        /// 1010
        Energy => ("energy", "Energy"),
        /// 1510
        Materials => ("materials", "Materials"),
        /// 2010
        CapitalGoods => ("capital_goods", "Capital Goods"),
        /// 2020
        CommercialProfessionalServices => ("commercial_professional_services", "Commercial & Professional Services"),
        /// 2030
        Transportation => ("transportation", "Transportation"),
        /// 2510
        AutomobilesComponents => ("automobiles_components", "Automobiles & Components"),
        /// 2520
        ConsumerDurablesApparel => ("consumer_durables_apparel", "Consumer Durables & Apparel"),
        /// 2530
        ConsumerServices => ("consumer_services", "Consumer Services"),
        /// 2550
        Retailing => ("retailing", "Retailing"),
        /// 3010
        FoodStaplesRetailing => ("food_staples_retailing", "Food & Staples Retailing"),
        /// 3020
        FoodBeverageTobacco => ("food_beverage_tobacco", "Food, Beverage & Tobacco"),
        /// 3030
        HouseholdPersonalProducts => ("household_personal_products", "Household & Personal Products"),
        /// 3510
        HealthCareEquipmentServices => ("health_care_equipment_services", "Health Care Equipment & Services"),
        /// 3520
        PharmaceuticalsBiotechnologyLifeSciences => ("pharmaceuticals_biotechnology_life_sciences", "Pharmaceuticals, Biotechnology & Life Sciences"),
        /// 4010
        Banks => ("banks", "Banks"),
        /// 4020
        DiversifiedFinancials => ("diversified_financials", "Diversified Financials"),
        /// 4030
        Insurance => ("insurance", "Insurance"),
        /// 4510
        SoftwareServices => ("software_services", "Software & Services"),
        /// 4520
        TechnologyHardwareEquipment => ("technology_hardware_equipment", "Technology Hardware & Equipment"),
        /// 4530
        SemiconductorsEquipment => ("semiconductors_equipment", "Semiconductors & Semiconductor Equipment"),
        /// 5010
        TelecommunicationServices => ("telecommunication_services", "Telecommunication Services"),
        /// 5020
        MediaEntertainment => ("media_entertainment", "Media & Entertainment"),
        /// 5510
        Utilities => ("utilities", "Utilities"),
        /// 6010
        RealEstate => ("real_estate", "Real Estate"),
    }
}

impl IndustryGroup {
    /// The sector the group belongs to.
    pub fn sector(self) -> IndustrySector {
        use IndustryGroup as G;
        use IndustrySector as S;
        match self {
            G::Energy => S::Energy,
            G::Materials => S::Materials,
            G::CapitalGoods | G::CommercialProfessionalServices | G::Transportation => {
                S::Industrials
            }
            G::AutomobilesComponents
            | G::ConsumerDurablesApparel
            | G::ConsumerServices
            | G::Retailing => S::ConsumerDiscretionary,
            G::FoodStaplesRetailing | G::FoodBeverageTobacco | G::HouseholdPersonalProducts => {
                S::ConsumerStaples
            }
            G::HealthCareEquipmentServices | G::PharmaceuticalsBiotechnologyLifeSciences => {
                S::HealthCare
            }
            G::Banks | G::DiversifiedFinancials | G::Insurance => S::Financials,
            G::SoftwareServices | G::TechnologyHardwareEquipment | G::SemiconductorsEquipment => {
                S::InformationTechnology
            }
            G::TelecommunicationServices | G::MediaEntertainment => S::CommunicationServices,
            G::Utilities => S::Utilities,
            G::RealEstate => S::RealEstate,
        }
    }
}

codes! {
    /// Legal form of a business (the seed's nine types).
    LegalForm {
        /// Sole proprietorship.
        SoleProprietorship => ("sole_proprietorship", "Sole Proprietorship"),
        /// General partnership.
        GeneralPartnership => ("general_partnership", "General Partnership"),
        /// Limited partnership (LP).
        LimitedPartnership => ("limited_partnership", "Limited Partnership"),
        /// Limited liability partnership (LLP).
        Llp => ("llp", "LLP"),
        /// Limited liability company (LLC).
        Llc => ("llc", "LLC"),
        /// C corporation.
        CCorporation => ("c_corporation", "C-Corp"),
        /// S corporation.
        SCorporation => ("s_corporation", "S-Corp"),
        /// Benefit corporation.
        BenefitCorporation => ("benefit_corporation", "B-Corp"),
        /// Non-profit organization.
        Nonprofit => ("nonprofit", "Nonprofit"),
    }
}

codes! {
    /// Company size by employees (the seed's eight tiers).
    SizeRange {
        /// 1-10.
        From1To10 => ("1-10", "1-10"),
        /// 11-50.
        From11To50 => ("11-50", "11-50"),
        /// 51-200.
        From51To200 => ("51-200", "51-200"),
        /// 201-500.
        From201To500 => ("201-500", "201-500"),
        /// 501-1,000.
        From501To1000 => ("501-1000", "501-1,000"),
        /// 1,001-5,000.
        From1001To5000 => ("1001-5000", "1,001-5,000"),
        /// 5,001-10,000.
        From5001To10000 => ("5001-10000", "5,001-10,000"),
        /// 10,001 and more.
        Over10000 => ("10001+", "10,001+"),
    }
}

codes! {
    /// A social network a business profile may link to (the seed's six).
    SocialPlatform {
        /// LinkedIn.
        Linkedin => ("linkedin", "LinkedIn"),
        /// X (formerly Twitter).
        X => ("x", "X"),
        /// Facebook.
        Facebook => ("facebook", "Facebook"),
        /// Instagram.
        Instagram => ("instagram", "Instagram"),
        /// YouTube.
        Youtube => ("youtube", "YouTube"),
        /// TikTok.
        Tiktok => ("tiktok", "TikTok"),
    }
}

impl SocialPlatform {
    /// The hosts a profile URL of this platform may have (and their subdomains, e.g.
    /// `www.`, `m.`).
    pub fn hosts(self) -> &'static [&'static str] {
        match self {
            Self::Linkedin => &["linkedin.com"],
            Self::X => &["x.com", "twitter.com"],
            Self::Facebook => &["facebook.com", "fb.com"],
            Self::Instagram => &["instagram.com"],
            Self::Youtube => &["youtube.com", "youtu.be"],
            Self::Tiktok => &["tiktok.com"],
        }
    }

    /// The platform whose host `url` (`https://host/...`) has, if any.
    pub fn of_url(url: &str) -> Option<Self> {
        let host = url_host(url)?;
        Self::ALL.iter().copied().find(|p| p.serves(&host))
    }

    /// Whether `host` (lower case) is one of this platform's hosts or under one.
    pub fn serves(self, host: &str) -> bool {
        self.hosts()
            .iter()
            .any(|h| host == *h || host.strip_suffix(h).is_some_and(|rest| rest.ends_with('.')))
    }
}

/// The lower-cased host of an `http(s)://host[:port]/…` URL.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?.split(':').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// A link to the business's profile on a social platform. Stored as
/// `{"platform": "linkedin", "url": "…"}`; profiles stored before classification were bare
/// URLs and read with the platform their host names (`None`: a host of no listed platform).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SocialProfile {
    /// The platform; `None` only for an unclassified link stored before classification.
    pub platform: Option<SocialPlatform>,
    /// The profile's URL (https, on one of the platform's hosts).
    pub url: String,
}

impl<'de> Deserialize<'de> for SocialProfile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Profile {
            platform: Option<SocialPlatform>,
            url: String,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Url(String),
            Profile(Profile),
        }
        // Snapshots (bincode, not self-describing) only ever hold the current form.
        let profile = if deserializer.is_human_readable() {
            match Stored::deserialize(deserializer)? {
                Stored::Url(url) => Profile {
                    platform: SocialPlatform::of_url(&url),
                    url,
                },
                Stored::Profile(profile) => profile,
            }
        } else {
            Profile::deserialize(deserializer)?
        };
        Ok(Self {
            platform: profile.platform,
            url: profile.url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_taxonomy_has_the_seeds_counts_and_every_group_sits_in_its_sector() {
        assert_eq!(IndustrySector::ALL.len(), 11);
        assert_eq!(IndustryGroup::ALL.len(), 24);
        assert_eq!(LegalForm::ALL.len(), 9);
        assert_eq!(SizeRange::ALL.len(), 8);
        assert_eq!(SocialPlatform::ALL.len(), 6);
        for sector in IndustrySector::ALL {
            assert!(
                IndustryGroup::ALL.iter().any(|g| g.sector() == *sector),
                "{sector} has no group"
            );
        }
        assert_eq!(
            IndustryGroup::SoftwareServices.sector(),
            IndustrySector::InformationTechnology
        );
    }

    #[test]
    fn stored_text_reads_as_a_code_a_label_or_unclassified_text() {
        let read = Classified::<IndustrySector>::read;
        assert_eq!(read(""), Classified::Unset);
        assert_eq!(
            read("information_technology"),
            Classified::Code(IndustrySector::InformationTechnology)
        );
        assert_eq!(
            read("Information Technology"),
            Classified::Code(IndustrySector::InformationTechnology)
        );
        assert_eq!(read("Tech"), Classified::Unclassified("Tech".into()));
        let size: Classified<SizeRange> = serde_json::from_str("\"51-200\"").unwrap();
        assert_eq!(size, Classified::Code(SizeRange::From51To200));
        assert_eq!(serde_json::to_string(&size).unwrap(), "\"51-200\"");
        let old: Classified<LegalForm> = serde_json::from_str("\"GmbH\"").unwrap();
        assert_eq!(serde_json::to_string(&old).unwrap(), "\"GmbH\"");
    }

    #[test]
    fn a_stored_bare_url_reads_as_a_profile_of_its_hosts_platform() {
        let old: Vec<SocialProfile> = serde_json::from_str(
            r#"["https://www.linkedin.com/company/acme", "https://example.com/acme"]"#,
        )
        .unwrap();
        assert_eq!(old[0].platform, Some(SocialPlatform::Linkedin));
        assert_eq!(old[1].platform, None);
        let new: Vec<SocialProfile> =
            serde_json::from_str(&serde_json::to_string(&old).unwrap()).unwrap();
        assert_eq!(new, old);
        assert!(!SocialPlatform::X.serves("notx.com"));
        assert!(SocialPlatform::X.serves("mobile.twitter.com"));
        assert_eq!(
            url_host("https://user@WWW.YouTube.com:443/c/acme").as_deref(),
            Some("www.youtube.com")
        );
    }
}
