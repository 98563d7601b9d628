// Compile-only stand-ins for the part of Soneta's public API the add-on uses, named as Soneta's
// published samples and class references name it, so that Mono's mcs can build the add-on and its
// tests in this repository. Not shipped, not a copy of Soneta's code: every member throws. The
// real build (OrderLink.Enova365.csproj, Sdk="Soneta.Sdk") uses the Soneta.* packages instead.
using System;
using System.Collections;
using System.Collections.Generic;

namespace Soneta.Types
{
    /// <summary>A calendar date.</summary>
    public struct Date
    {
        /// <summary>From a DateTime's date.</summary>
        public Date(DateTime d) { throw Stub.Only(); }
        /// <summary>As a DateTime.</summary>
        public static explicit operator DateTime(Date d) { throw Stub.Only(); }
    }

    /// <summary>Thrown by every stub member.</summary>
    public static class Stub
    {
        /// <summary>The exception.</summary>
        public static NotSupportedException Only() { return new NotSupportedException("Soneta stub: compile-only"); }
    }
}

namespace Soneta.Types.DynamicApi
{
    /// <summary>HTTP verbs of a dynamic API method.</summary>
    public enum HttpMethods { GET, POST, PUT, DELETE }

    /// <summary>Publishes a service as /api/{implementation}/{method}.</summary>
    [AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
    public sealed class DynamicApiControllerAttribute : Attribute
    {
        /// <summary>The interface and its implementation.</summary>
        public DynamicApiControllerAttribute(Type service, Type implementation) { }
        /// <summary>A description.</summary>
        public string Summary { get; set; }
    }

    /// <summary>Publishes one interface method.</summary>
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class DynamicApiMethodAttribute : Attribute
    {
        /// <summary>Verb and route name.</summary>
        public DynamicApiMethodAttribute(HttpMethods method, string name) { }
        /// <summary>A description.</summary>
        public string Summary { get; set; }
    }
}

namespace Soneta.Business
{
    using Soneta.Types;

    /// <summary>A service's lifetime.</summary>
    public enum ServiceScope { Session, Login, Global }

    /// <summary>Registers a service implementation.</summary>
    [AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
    public sealed class ServiceAttribute : Attribute
    {
        /// <summary>Interface, implementation, scope.</summary>
        public ServiceAttribute(Type service, Type implementation, ServiceScope scope) { }
        /// <summary>Reachable through the WebAPI MethodInvoker.</summary>
        public bool Published { get; set; }
    }

    /// <summary>A logged-in operator's context.</summary>
    public class Login
    {
        /// <summary>A new session.</summary>
        public Session CreateSession(bool readOnly, bool config) { throw Stub.Only(); }
    }

    /// <summary>A unit of work over the database.</summary>
    public class Session : IDisposable
    {
        /// <summary>The login.</summary>
        public Login Login { get { throw Stub.Only(); } }
        /// <summary>Starts an edit transaction.</summary>
        public ITransaction Logout(bool editMode) { throw Stub.Only(); }
        /// <summary>Saves the session's changes.</summary>
        public void Save() { throw Stub.Only(); }
        /// <summary>Closes the session.</summary>
        public void Dispose() { }
    }

    /// <summary>An edit transaction.</summary>
    public interface ITransaction : IDisposable
    {
        /// <summary>Keeps the changes.</summary>
        void Commit();
    }

    /// <summary>A server-side condition on database fields.</summary>
    public abstract class RowCondition
    {
        /// <summary>Both.</summary>
        public static RowCondition operator &(RowCondition a, RowCondition b) { throw Stub.Only(); }
        /// <summary>Either.</summary>
        public static RowCondition operator |(RowCondition a, RowCondition b) { throw Stub.Only(); }
    }

    /// <summary>Conditions on one field.</summary>
    public abstract class FieldCondition : RowCondition
    {
        /// <summary>field = value.</summary>
        public sealed class Equal : FieldCondition { /// <summary>.</summary>
            public Equal(string field, object value) { } }
        /// <summary>field &gt; value.</summary>
        public sealed class Greater : FieldCondition { /// <summary>.</summary>
            public Greater(string field, object value) { } }
        /// <summary>field &gt;= value.</summary>
        public sealed class GreaterEqual : FieldCondition { /// <summary>.</summary>
            public GreaterEqual(string field, object value) { } }
    }

    /// <summary>An operator.</summary>
    public class Operator
    {
        /// <summary>The operator's name.</summary>
        public string Name { get { throw Stub.Only(); } }
    }

    /// <summary>A row's last change from the change log.</summary>
    public class ChangeInfo
    {
        /// <summary>When.</summary>
        public DateTime Time { get { throw Stub.Only(); } }
        /// <summary>Who.</summary>
        public Operator Operator { get { throw Stub.Only(); } }
    }

    /// <summary>Custom fields of a row.</summary>
    public class FeatureCollection
    {
        /// <summary>The names.</summary>
        public IEnumerable<string> Keys { get { throw Stub.Only(); } }
        /// <summary>A value by name.</summary>
        public object this[string name] { get { throw Stub.Only(); } }
    }

    /// <summary>An edit conflict found by Save().</summary>
    public class RowConflictException : Exception { }
    /// <summary>A row refused a change.</summary>
    public class RowException : Exception { }
    /// <summary>A business rule refused a change.</summary>
    public class BusException : Exception { }
    /// <summary>No right to write.</summary>
    public class AccessWriteDeniedException : Exception { }
    /// <summary>A read-only row.</summary>
    public class ReadOnlyException : Exception { }
}

namespace Soneta.Handel
{
    using Soneta.Business;
    using Soneta.Types;

    /// <summary>Document confirmation.</summary>
    public enum PotwierdzenieDokumentuHandlowego { Niepotwierdzony = 0, Potwierdzony = 1, Zaakceptowany = 2, Odrzucony = 3 }
    /// <summary>Document state.</summary>
    public enum StanDokumentuHandlowego { Bufor = 0, Zatwierdzony = 1, Zablokowany = 2, Anulowany = 3 }
    /// <summary>Document category (subset).</summary>
    public enum KategoriaHandlowa { Sprzedaż, Paragon, ZamówienieOdbiorcy }

    /// <summary>The trade module of a session.</summary>
    public static class HandelModuleExtensions
    {
        /// <summary>session.GetHandel().</summary>
        public static HandelModule GetHandel(this Session session) { throw Stub.Only(); }
    }

    /// <summary>The trade module.</summary>
    public class HandelModule
    {
        /// <summary>Trade documents.</summary>
        public DokHandlowe DokHandlowe { get { throw Stub.Only(); } }
        /// <summary>Trade document definitions.</summary>
        public DefDokHandlowych DefDokHandlowych { get { throw Stub.Only(); } }
    }

    /// <summary>The trade documents table.</summary>
    public class DokHandlowe
    {
        /// <summary>The key by date, with server-side conditions.</summary>
        public DokHandloweKey WgDaty { get { throw Stub.Only(); } }
    }

    /// <summary>A key of the trade documents table.</summary>
    public class DokHandloweKey
    {
        /// <summary>The rows matching a condition.</summary>
        public IEnumerable<DokumentHandlowy> this[RowCondition condition] { get { throw Stub.Only(); } }
    }

    /// <summary>The definitions table.</summary>
    public class DefDokHandlowych
    {
        /// <summary>By symbol.</summary>
        public DefDokHandlowychKey WgSymbolu { get { throw Stub.Only(); } }
    }

    /// <summary>A key of the definitions table.</summary>
    public class DefDokHandlowychKey
    {
        /// <summary>The definition with this symbol.</summary>
        public DefDokHandlowego this[string symbol] { get { throw Stub.Only(); } }
    }

    /// <summary>A trade document definition.</summary>
    public class DefDokHandlowego
    {
        /// <summary>The symbol (ZO, FV, PAR...).</summary>
        public string Symbol { get { throw Stub.Only(); } }
        /// <summary>The category.</summary>
        public KategoriaHandlowa Kategoria { get { throw Stub.Only(); } }
    }

    /// <summary>A document number.</summary>
    public class NumerDokumentu
    {
        /// <summary>e.g. ZO/000042/2026.</summary>
        public string NumerPelny { get { throw Stub.Only(); } }
    }

    /// <summary>The customer's own data on a document.</summary>
    public class DaneObce
    {
        /// <summary>The foreign number.</summary>
        public string Numer { get { throw Stub.Only(); } }
    }

    /// <summary>A relation to a document issued from this one.</summary>
    public class RelacjaHandlowa
    {
        /// <summary>The issued document.</summary>
        public DokumentHandlowy Podrzedny { get { throw Stub.Only(); } }
    }

    /// <summary>A trade document.</summary>
    public class DokumentHandlowy
    {
        /// <summary>Row id.</summary>
        public int ID { get { throw Stub.Only(); } }
        /// <summary>Row guid.</summary>
        public Guid Guid { get { throw Stub.Only(); } }
        /// <summary>Number.</summary>
        public NumerDokumentu Numer { get { throw Stub.Only(); } }
        /// <summary>Date.</summary>
        public Date Data { get { throw Stub.Only(); } }
        /// <summary>State.</summary>
        public StanDokumentuHandlowego Stan { get { throw Stub.Only(); } }
        /// <summary>Confirmation.</summary>
        public PotwierdzenieDokumentuHandlowego Potwierdzenie { get { throw Stub.Only(); } set { throw Stub.Only(); } }
        /// <summary>Foreign data.</summary>
        public DaneObce Obcy { get { throw Stub.Only(); } }
        /// <summary>Definition.</summary>
        public DefDokHandlowego Definicja { get { throw Stub.Only(); } }
        /// <summary>Custom fields.</summary>
        public FeatureCollection Features { get { throw Stub.Only(); } }
        /// <summary>Documents issued from it.</summary>
        public IEnumerable<RelacjaHandlowa> PodrzedneRelacje { get { throw Stub.Only(); } }
        /// <summary>The last change from the change log.</summary>
        public ChangeInfo LastChangeInfo { get { throw Stub.Only(); } }
    }
}
