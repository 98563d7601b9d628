// A ZO as the add-on's logic sees it: a snapshot read from Soneta's objects (or from a test's
// example), with the operator of its last change.
using System;
using System.Collections.Generic;

namespace OrderLink.Enova365.Logika
{
    /// <summary>A snapshot of one ZO document.</summary>
    public class DokumentZO
    {
        /// <summary>The row id.</summary>
        public long ID { get; set; }
        /// <summary>The row guid.</summary>
        public string Guid { get; set; }
        /// <summary>The full number.</summary>
        public string NumerPelny { get; set; }
        /// <summary>YYYY-MM-DD.</summary>
        public string Data { get; set; }
        /// <summary>Stan by name.</summary>
        public string Stan { get; set; }
        /// <summary>Potwierdzenie by name.</summary>
        public string Potwierdzenie { get; set; }
        /// <summary>Obcy.Numer.</summary>
        public string ObcyNumer { get; set; }
        /// <summary>Custom fields.</summary>
        public Dictionary<string, string> Cechy { get; set; }
        /// <summary>Sales documents issued from it.</summary>
        public List<string> DokumentySprzedazy { get; set; }
        /// <summary>Last change time (ISO 8601 with offset).</summary>
        public string Zmieniono { get; set; }
        /// <summary>The operator of the last change.</summary>
        public string Operator { get; set; }

        /// <summary>Fulfilled: a sales document exists.</summary>
        public bool Zrealizowane { get { return DokumentySprzedazy != null && DokumentySprzedazy.Count > 0; } }

        /// <summary>The last change time (DateTimeOffset.MinValue when unreadable).</summary>
        public DateTimeOffset CzasZmiany
        {
            get
            {
                DateTimeOffset t;
                return Czas.TryParse(Zmieniono, out t) ? Czas.DoSekundy(t) : DateTimeOffset.MinValue;
            }
        }

        /// <summary>The contract's shape of the document.</summary>
        public Zamowienie Widok()
        {
            return new Zamowienie
            {
                ID = ID,
                Guid = Guid,
                NumerPelny = NumerPelny,
                Data = Data,
                Stan = Stan,
                Potwierdzenie = Potwierdzenie,
                ObcyNumer = ObcyNumer ?? "",
                Cechy = Cechy ?? new Dictionary<string, string>(),
                Zrealizowane = Zrealizowane,
                DokumentySprzedazy = DokumentySprzedazy ?? new List<string>(),
                Zmieniono = Zmieniono,
            };
        }
    }
}
