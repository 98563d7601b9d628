// The service contract's argument and result objects. Property names are the JSON field names
// (the WebAPI serialises public properties as they are named); plugins/enova365/contract/ holds
// request and answer examples checked against these classes. No Soneta dependency.
using System.Collections.Generic;

namespace OrderLink.Enova365
{
    /// <summary>PobierzZamowienia arguments: every field optional.</summary>
    public class ParametryZamowien
    {
        /// <summary>Change feed: documents changed at or after this time (ISO 8601).</summary>
        public string ZmienioneOd { get; set; }
        /// <summary>Keyset position: with ZmienioneOd, after (ZmienioneOd, PoID); without, ID &gt; PoID.</summary>
        public long? PoID { get; set; }
        /// <summary>Only these foreign numbers.</summary>
        public List<string> ObcyNumery { get; set; }
        /// <summary>Only documents dated on or after this day (YYYY-MM-DD).</summary>
        public string UtworzoneOd { get; set; }
        /// <summary>Only documents without a sales document.</summary>
        public bool? TylkoNiezrealizowane { get; set; }
        /// <summary>Leave out documents whose last change was made by this operator.</summary>
        public string PominOperatora { get; set; }
        /// <summary>Documents per page, 1 to 500 (default 100).</summary>
        public int? Limit { get; set; }
    }

    /// <summary>One ZO document as the service sends it.</summary>
    public class Zamowienie
    {
        /// <summary>The row id.</summary>
        public long ID { get; set; }
        /// <summary>The row guid.</summary>
        public string Guid { get; set; }
        /// <summary>Numer.NumerPelny, e.g. ZO/000042/2026.</summary>
        public string NumerPelny { get; set; }
        /// <summary>The document date, YYYY-MM-DD.</summary>
        public string Data { get; set; }
        /// <summary>Stan by name.</summary>
        public string Stan { get; set; }
        /// <summary>Potwierdzenie by name.</summary>
        public string Potwierdzenie { get; set; }
        /// <summary>Obcy.Numer, the shop's order number.</summary>
        public string ObcyNumer { get; set; }
        /// <summary>Custom fields by name.</summary>
        public Dictionary<string, string> Cechy { get; set; }
        /// <summary>A sales document was issued from it.</summary>
        public bool Zrealizowane { get; set; }
        /// <summary>The sales documents issued from it.</summary>
        public List<string> DokumentySprzedazy { get; set; }
        /// <summary>The last change time (ISO 8601 with offset).</summary>
        public string Zmieniono { get; set; }
    }

    /// <summary>PobierzZamowienia result.</summary>
    public class WynikZamowien
    {
        /// <summary>The page, ordered by (Zmieniono, ID) in the feed and by ID in a listing.</summary>
        public List<Zamowienie> Zamowienia { get; set; }
        /// <summary>More documents follow.</summary>
        public bool CzyJestWiecej { get; set; }
        /// <summary>The server's time when the page was read.</summary>
        public string CzasSerwera { get; set; }
    }

    /// <summary>One change of UstawPotwierdzenia.</summary>
    public class Zmiana
    {
        /// <summary>The document's id (or ObcyNumer).</summary>
        public long? ID { get; set; }
        /// <summary>The document's foreign number (when no ID).</summary>
        public string ObcyNumer { get; set; }
        /// <summary>The value to set, by name or number.</summary>
        public string Potwierdzenie { get; set; }
        /// <summary>Compare-and-set: refuse unless the document has this value (or already the target).</summary>
        public string OczekiwanePotwierdzenie { get; set; }
    }

    /// <summary>UstawPotwierdzenia arguments.</summary>
    public class ParametryZmian
    {
        /// <summary>Up to 100 changes.</summary>
        public List<Zmiana> Zmiany { get; set; }
    }

    /// <summary>The result of one change.</summary>
    public class WynikZmiany
    {
        /// <summary>The document's id, when found.</summary>
        public long? ID { get; set; }
        /// <summary>The document's foreign number.</summary>
        public string ObcyNumer { get; set; }
        /// <summary>The document has the value now.</summary>
        public bool Success { get; set; }
        /// <summary>Why the change was refused.</summary>
        public string Description { get; set; }
        /// <summary>The document's value now.</summary>
        public string Potwierdzenie { get; set; }
        /// <summary>The document's last change time now.</summary>
        public string Zmieniono { get; set; }
        /// <summary>The document was written (false: refused, or it already had the value).</summary>
        public bool Zapisano { get; set; }
    }

    /// <summary>UstawPotwierdzenia result: one per change, in request order.</summary>
    public class WynikiZmian
    {
        /// <summary>The results.</summary>
        public List<WynikZmiany> Wyniki { get; set; }
    }
}
